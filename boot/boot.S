/*
 * 32-bit entry for the three boot protocols, and the switch to long mode.
 *
 * Multiboot1 (QEMU -kernel with SeaBIOS or qboot) cannot load an ELF64
 * image, so its header sets the "address fields valid" flag (bit 16) and
 * names the load range itself. Multiboot2 (GRUB, BIOS and UEFI) loads the
 * ELF64 directly. Both enter here in 32-bit protected mode, paging off,
 * with the magic in EAX and the boot information pointer in EBX.
 * PVH (Xen's x86/HVM direct boot ABI: Firecracker, Cloud Hypervisor, QEMU
 * -kernel of an ELF with no multiboot1 header) enters at the address its
 * ELF note names, in the same state with the start info's address in EBX
 * and no magic: _start_pvh supplies the start info's own.
 * It must not call C before long mode, the page tables and the stack
 * are set up.
 */
#define MB1_MAGIC	0x1BADB002
#define MB1_FLAGS	((1 << 1) | (1 << 2) | (1 << 16))	/* memory, video; address fields */
/* The screen we ask for: a linear framebuffer, 1024x768 at 32 bits when
 * the firmware has it (a preference: we draw whatever mode we get, and
 * VGA text when that is all there is). */
#define FB_WIDTH	1024
#define FB_HEIGHT	768
#define FB_DEPTH	32
#define MB2_MAGIC	0xE85250D6
#define PVH_BOOT_MAGIC	0x336EC578	/* boot/multiboot.h */
#define CR0_PG		(1 << 31)
#define CR4_PAE		(1 << 5)
#define EFER_MSR	0xC0000080
#define EFER_LME	(1 << 8)
/* Present, writable, user (US: arch-x86/usermode.c runs pure computation
 * at CPL 3 on this map), large page. */
#define PTE_P_RW_US_PS	0x87
#define PTE_P_RW_US	0x07
#define PTE_PWT_PCD	0x18
#define BOOT_STACK_SIZE	65536
#define VGA_TEXT	0xB8000
#define VGA_ATTR	0x4F		/* white on red */
/* isa-debug-exit (arch-x86/platform.h): code 3, QEMU status 7, is "this
 * CPU cannot run tickscope" (README, Exit codes). */
#define DEBUG_EXIT_PORT	0xF4
#define EXIT_NO_LONG_MODE 3

	/* The multiboot1 header alone in its section: the Makefile blanks
	 * it in build/tickscope-pvh.elf, since QEMU's -kernel loader tries
	 * multiboot1 before PVH (hw/i386/x86.c, x86_load_linux). */
	.section .multiboot1, "a"
	.align 4
mb1_header:
	.long MB1_MAGIC
	.long MB1_FLAGS
	.long -(MB1_MAGIC + MB1_FLAGS)
	.long mb1_header	/* header_addr */
	.long __load_start	/* load_addr */
	.long __load_end	/* load_end_addr */
	.long __image_end	/* bss_end_addr: the loader zeroes up to here */
	.long _start32		/* entry_addr */
	.long 0			/* mode_type: linear graphics */
	.long FB_WIDTH
	.long FB_HEIGHT
	.long FB_DEPTH

	.section .multiboot, "a"
	.align 8
mb2_header:
	.long MB2_MAGIC
	.long 0			/* architecture: i386 protected mode */
	.long mb2_end - mb2_header
	.long -(MB2_MAGIC + (mb2_end - mb2_header))
	/* Tag: console flags (type 4): we drive the EGA text console if any. */
	.align 8
	.short 4, 0
	.long 12
	.long 2			/* EGA text supported */
	/* Tag: framebuffer (type 5), optional (flags 1): GRUB sets a mode,
	 * which on UEFI (no text mode there) is the only screen we get. */
	.align 8
	.short 5, 1
	.long 20
	.long FB_WIDTH
	.long FB_HEIGHT
	.long FB_DEPTH
	/* End tag. */
	.align 8
	.short 0, 0
	.long 8
mb2_end:

	/* The PVH entry point: an ELF note of type XEN_ELFNOTE_PHYS32_ENTRY
	 * (18) under the name "Xen", in a PT_NOTE segment (linker.ld). The
	 * address is pointer-sized, as Linux writes it and QEMU reads it. */
	.section .note.Xen, "a"
	.align 4
	.long 4			/* namesz */
	.long 8			/* descsz */
	.long 18		/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.align 4
	.quad _start_pvh

	.section .text
	.code32
	.global _start_pvh
_start_pvh:
	mov $PVH_BOOT_MAGIC, %eax	/* EBX already holds the start info */
	jmp _start32

	.global _start32
_start32:
	cli
	cld
	mov %eax, %edi			/* keep magic and info across setup */
	mov %ebx, %esi
	mov $boot_stack_top, %esp

	/* Zero the boot page tables' upper levels (only their first entries
	 * are written below; boot_pd is written whole). The rest of .bss is
	 * zeroed in long mode, eight bytes a step: where the hypervisor
	 * emulates each step of a REP STOS (kvm_pvm, ~0.3 us a step), byte
	 * steps over an 11.5 MiB .bss took 3.5 s of a KVM boot. NOINIT
	 * buffers (.noinit, linker.ld) get none. */
	mov %edi, %ebp
	mov $boot_pml4, %edi
	mov $((boot_pd - boot_pml4) / 4), %ecx
	xor %eax, %eax
	rep stosl
	mov %ebp, %edi

	/* Long mode present? CPUID 0x80000001 EDX bit 29. */
	mov $0x80000000, %eax
	cpuid
	cmp $0x80000001, %eax
	jb no_long_mode
	mov $0x80000001, %eax
	cpuid
	bt $29, %edx
	jnc no_long_mode

	/*
	 * Identity-map the low 4 GiB with 2 MiB pages. The fourth GiB holds
	 * the PCI hole and the LAPIC, IOAPIC and HPET registers, so it is
	 * mapped uncached (PCD|PWT).
	 */
	mov $boot_pd, %ebx
	xor %ecx, %ecx
1:	mov %ecx, %eax
	shl $21, %eax
	or $PTE_P_RW_US_PS, %eax
	cmp $1536, %ecx
	jb 2f
	or $PTE_PWT_PCD, %eax
2:	mov %eax, (%ebx, %ecx, 8)
	movl $0, 4(%ebx, %ecx, 8)
	inc %ecx
	cmp $2048, %ecx
	jb 1b

	mov $boot_pdpt, %ebx
	xor %ecx, %ecx
3:	mov %ecx, %eax
	shl $12, %eax
	add $boot_pd, %eax
	or $PTE_P_RW_US, %eax
	mov %eax, (%ebx, %ecx, 8)
	movl $0, 4(%ebx, %ecx, 8)
	inc %ecx
	cmp $4, %ecx
	jb 3b

	mov $boot_pdpt, %eax
	or $PTE_P_RW_US, %eax
	mov %eax, boot_pml4
	movl $0, boot_pml4 + 4

	mov %cr4, %eax
	or $CR4_PAE, %eax
	mov %eax, %cr4
	mov $boot_pml4, %eax
	mov %eax, %cr3
	mov $EFER_MSR, %ecx
	rdmsr
	or $EFER_LME, %eax
	wrmsr
	mov %cr0, %eax
	or $CR0_PG, %eax
	mov %eax, %cr0

	lgdt boot_gdt_ptr
	ljmp $0x08, $start64

no_long_mode:
	/* Say why on COM1 (best effort, no probe possible yet) and on the
	 * VGA text screen (white on red, the screen cleared first), leave
	 * through isa-debug-exit under a hypervisor, else stop. */
	mov $no_lm_msg, %esi
4:	lodsb
	test %al, %al
	jz 5f
	mov $0x3f8, %dx
	out %al, %dx
	jmp 4b
5:	mov $VGA_TEXT, %edi
	mov $(VGA_ATTR << 8 | ' '), %ax
	mov $(80 * 25), %ecx
	rep stosw
	mov $no_lm_msg, %esi
	mov $VGA_TEXT, %edi
6:	lodsb
	test %al, %al
	jz 7f
	cmp $' ', %al			/* CR and LF end the line on serial only */
	jb 6b
	stosw
	jmp 6b
7:	mov $1, %eax
	cpuid
	bt $31, %ecx			/* the hypervisor bit: isa-debug-exit may be there */
	jnc 8f
	mov $EXIT_NO_LONG_MODE, %al
	out %al, $DEBUG_EXIT_PORT
8:	cli
	hlt
	jmp 8b

	.code64
start64:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	xor %ax, %ax
	mov %ax, %fs
	mov %ax, %gs
	mov $boot_stack_top, %rsp
	xor %rbp, %rbp
	/* Zero .bss (not every loader does it for an address-field image);
	 * the boot stack and page tables in use lie outside it (.boot_bss).
	 * Both ends are 16-aligned (linker.ld). */
	mov %rdi, %r8
	mov $__bss_start, %rdi
	mov $__bss_end, %rcx
	sub %rdi, %rcx
	shr $3, %rcx
	xor %eax, %eax
	rep stosq
	mov %r8, %rdi
	/* kmain(magic, info): EDI and ESI already hold them, zero-extended. */
	mov %edi, %edi
	mov %esi, %esi
	call kmain
6:	cli
	hlt
	jmp 6b

	.section .rodata
no_lm_msg:
	.asciz "tickscope: this CPU has no long mode (x86_64 required)\r\n"

	.align 8
boot_gdt:
	.quad 0
	.quad 0x00AF9A000000FFFF	/* 0x08: 64-bit code */
	.quad 0x00CF92000000FFFF	/* 0x10: data */
boot_gdt_end:
boot_gdt_ptr:
	.short boot_gdt_end - boot_gdt - 1
	.long boot_gdt

	/* The stack sits below the page tables' lower neighbours, not just
	 * under them: an overflow must not rewrite the paging structures. */
	/* Before __bss_start (linker.ld): in use while .bss is zeroed. */
	.section .boot_bss, "aw", @nobits
	.align 4096
	.global boot_stack_top
boot_stack:	.skip BOOT_STACK_SIZE
boot_stack_top:
boot_pml4:	.skip 4096
boot_pdpt:	.skip 4096
boot_pd:	.skip 4 * 4096

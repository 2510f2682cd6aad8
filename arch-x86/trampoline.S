/*
 * Application-processor start-up code. It is copied to TRAMP_BASE (below
 * 1 MiB, page aligned) and entered there by the STARTUP IPI in real mode
 * with CS = TRAMP_BASE >> 4, IP = 0. It goes to protected mode, then long
 * mode on the kernel's page tables, and jumps to the C entry on a stack
 * of its own: every AP starts at once from the same parameter block (at
 * its end), so each takes the next stack by an atomic increment and
 * passes that slot to the C entry, which finds its CPU by APIC ID.
 * It must not use data outside its own page before long mode is on.
 */
#include "arch-x86/smp_layout.h"

#define REL(x)	((x) - trampoline_start)
#define ABS(x)	(TRAMP_BASE + REL(x))

	.section .rodata
	.code16
	.global trampoline_start, trampoline_end
trampoline_start:
	cli
	cld
	mov %cs, %ax
	mov %ax, %ds
	lgdtl REL(tramp_gdt_ptr)
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $0x08, $ABS(pm32)

	.code32
pm32:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov %cr4, %eax
	or $(1 << 5), %eax		/* PAE */
	mov %eax, %cr4
	mov ABS(tramp_cr3), %eax
	mov %eax, %cr3
	mov $0xC0000080, %ecx		/* EFER.LME */
	rdmsr
	or $(1 << 8), %eax
	wrmsr
	mov %cr0, %eax
	or $(1 << 31), %eax		/* paging */
	mov %eax, %cr0
	ljmp $0x18, $ABS(lm64)

	.code64
lm64:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $1, %edi
	lock xaddl %edi, ABS(tramp_next)	/* edi: this AP's stack slot */
	mov %edi, %eax
	inc %rax
	shl $AP_STACK_SHIFT, %rax
	add ABS(tramp_stacks), %rax
	mov %rax, %rsp			/* top of stack slot edi */
	mov ABS(tramp_entry), %rax
	xor %rbp, %rbp
	call *%rax
1:	cli
	hlt
	jmp 1b

	.align 8
tramp_gdt:
	.quad 0
	.quad 0x00CF9A000000FFFF	/* 0x08: 32-bit code */
	.quad 0x00CF92000000FFFF	/* 0x10: data */
	.quad 0x00AF9A000000FFFF	/* 0x18: 64-bit code */
tramp_gdt_ptr:
	.short tramp_gdt_ptr - tramp_gdt - 1
	.long ABS(tramp_gdt)

	/* Parameter block, filled by the BSP for each AP (see smp.c). */
	.align 8
	.global tramp_params
tramp_params:
tramp_cr3:	.quad 0
tramp_stacks:	.quad 0
tramp_entry:	.quad 0
tramp_next:	.long 0
		.long 0
trampoline_end:

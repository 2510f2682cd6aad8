/* The GDT, TSS and IDT, the interrupt dispatcher and the exception report.
 * It must not know any device: handlers are registered by vector, and it
 * prints through lib/console. */
#include "idt.h"
#include "cpu.h"
#include "lapic.h"
#include "platform.h"
#include "percpu.h"
#include "lib/console.h"
#include "lib/offload.h"
#include "lib/str.h"

#define GDT_CODE	0x08
#define GDT_TSS		0x18
#define IST_STACK_SIZE	8192

struct tss {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} __attribute__((packed));

struct idt_gate {
	u16 off_lo, sel;
	u8 ist, type;
	u16 off_mid;
	u32 off_hi, zero;
} __attribute__((packed));

struct table_ptr {
	u16 limit;
	u64 base;
} __attribute__((packed));

extern const u8 isr_stubs[];
extern const u8 user_ud_entry[];

static u64 gdt[7] __attribute__((aligned(16)));
static struct tss tss __attribute__((aligned(16)));
static struct idt_gate idt[256] __attribute__((aligned(16)));
static u8 ist_stack[IST_STACK_SIZE] __attribute__((aligned(16)));
static struct {
	irq_fn fn;
	void *ctx;
} handlers[256];
static void (*exc_hook)(struct int_frame *f);

static const char *const exc_names[32] = {
	"divide error", "debug", "NMI", "breakpoint", "overflow", "bound range",
	"invalid opcode", "device not available", "double fault", "coprocessor overrun",
	"invalid TSS", "segment not present", "stack fault", "general protection",
	"page fault", "reserved", "x87 error", "alignment check", "machine check",
	"SIMD error", "virtualization", "control protection", "reserved", "reserved",
	"reserved", "reserved", "reserved", "reserved", "hypervisor injection",
	"VMM communication", "security", "reserved",
};

static void load_tables(bool tss_too)
{
	struct table_ptr gp = { sizeof(gdt) - 1, (u64)(uintptr_t)gdt };
	struct table_ptr ip = { sizeof(idt) - 1, (u64)(uintptr_t)idt };

	__asm__ volatile(
		"lgdt %0\n\t"
		"pushq %1\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1: mov $0x10, %%ax\n\t"
		"mov %%ax, %%ds\n\t"
		"mov %%ax, %%es\n\t"
		"mov %%ax, %%ss\n\t"
		"lidt %2"
		:: "m"(gp), "i"(GDT_CODE), "m"(ip) : "rax", "memory");
	if (tss_too)
		__asm__ volatile("ltr %w0" :: "r"((u16)GDT_TSS));
}

void idt_load_ap(void)
{
	load_tables(false);
}

/* Gates from..to-1 to their entry stubs. */
static void fill_gates(int from, int to)
{
	for (int v = from; v < to; v++) {
		u64 a = (u64)(uintptr_t)(isr_stubs + 16 * v);

		idt[v] = (struct idt_gate){
			.off_lo = a & 0xFFFF, .sel = GDT_CODE,
			/* Double fault and NMI run on their own stack, so a blown
			 * stack is still reported rather than triple-faulting. */
			.ist = (v == 8 || v == 2) ? 1 : 0,
			.type = 0x8E, /* present, DPL 0, interrupt gate */
			.off_mid = a >> 16 & 0xFFFF, .off_hi = a >> 32,
		};
	}
}

static u64 fill_job(void *arg)
{
	(void)arg;
	fill_gates(VEC_FIRST_IRQ, 256);
	return 0;
}

void idt_init_irqs(void)
{
	offload(fill_job, NULL);
}

void idt_init(void)
{
	u64 tss_base = (u64)(uintptr_t)&tss;

	gdt[0] = 0;
	gdt[1] = 0x00AF9A000000FFFFull;	/* 64-bit code */
	gdt[2] = 0x00CF92000000FFFFull;	/* data */
	/* 64-bit available TSS: a 16-byte system descriptor. */
	gdt[3] = (sizeof(tss) - 1) | ((tss_base & 0xFFFFFF) << 16) | (0x89ull << 40) |
		 ((tss_base >> 24 & 0xFF) << 56);
	gdt[4] = tss_base >> 32;
	/* CPL-3 segments for usermode.c: data (USER_DS), 64-bit code (USER_CS). */
	gdt[5] = 0x00CFF2000000FFFFull;
	gdt[6] = 0x00AFFA000000FFFFull;
	tss.ist[0] = (u64)(uintptr_t)(ist_stack + IST_STACK_SIZE);
	tss.iomap_base = sizeof(tss);

	fill_gates(0, VEC_FIRST_IRQ);
	/* #UD first checks for user_entry.S's way back from CPL 3. */
	idt[6].off_lo = (u64)(uintptr_t)user_ud_entry & 0xFFFF;
	idt[6].off_mid = (u64)(uintptr_t)user_ud_entry >> 16 & 0xFFFF;
	idt[6].off_hi = (u64)(uintptr_t)user_ud_entry >> 32;
	load_tables(true);
}

void *idt_rsp0_slot(void)
{
	/* At offset 4: unaligned, which x86 stores handle. */
	return (u8 *)&tss + __builtin_offsetof(struct tss, rsp);
}

int irq_set_handler(u8 vector, irq_fn fn, void *ctx)
{
	if (vector < 32 || handlers[vector].fn)
		return -EINVAL;
	handlers[vector].ctx = ctx;
	handlers[vector].fn = fn;
	return 0;
}

void irq_clear_handler(u8 vector)
{
	handlers[vector].fn = NULL;
	handlers[vector].ctx = NULL;
}

static int irq_alloc_vector(void)
{
	for (int v = VEC_DYN_FIRST; v <= VEC_DYN_LAST; v++)
		if (!handlers[v].fn)
			return v;
	return -1;
}

int irq_alloc(irq_fn fn, void *ctx)
{
	int v = irq_alloc_vector();

	return v >= 0 && irq_set_handler((u8)v, fn, ctx) == 0 ? v : -1;
}

void exception_set_hook(void (*hook)(struct int_frame *f))
{
	exc_hook = hook;
}

/* The dump is diagnostic lines at the report's current indent: they stay
 * inside the KTAP test that faulted. */
static void report_exception(struct int_frame *f)
{
	const char *in = console_indent();

	kprintf("%s# EXCEPTION: vector %lu (%s), error code 0x%lx\n", in, f->vector,
		exc_names[f->vector], f->error);
	kprintf("%s# rip %016lx cs %04lx rflags %08lx rsp %016lx ss %04lx cr2 %016lx\n", in,
		f->rip, f->cs, f->rflags, f->rsp, f->ss, read_cr2());
	kprintf("%s# rax %016lx rbx %016lx rcx %016lx rdx %016lx\n", in, f->rax, f->rbx, f->rcx,
		f->rdx);
	kprintf("%s# rsi %016lx rdi %016lx rbp %016lx r8  %016lx\n", in, f->rsi, f->rdi, f->rbp,
		f->r8);
	kprintf("%s# r9  %016lx r10 %016lx r11 %016lx r12 %016lx\n", in, f->r9, f->r10, f->r11,
		f->r12);
	kprintf("%s# r13 %016lx r14 %016lx r15 %016lx\n", in, f->r13, f->r14, f->r15);
}

void interrupt_dispatch(struct int_frame *f);

void interrupt_dispatch(struct int_frame *f)
{
	u8 v = (u8)f->vector;

	if (v < 32) {
		/* The dump is formatted in place, not at CPL 3 (lib/offload.h):
		 * the fault may lie in what a trip there rests on (the GDT, the
		 * TSS, the user stack), and a second fault would then print
		 * over the first. It is rare, so ring 0's cost (~0.7 ms a line
		 * where kvm_pvm interprets it) does not matter. The boot CPU
		 * only: the others never offload (usermode.h), and two CPUs
		 * swapping the runner at once could lose it. */
		bool bsp = this_cpu() == 0;
		offload_runner run = bsp ? offload_set(NULL) : NULL;

		report_exception(f);
		if (!bsp) {
			/* The runner lives on CPU 0; an AP that faults stops. */
			kprintf("%s# CPU %u stopped after the exception\n", console_indent(),
				this_cpu());
			this_percpu()->failed = true;
			for (;;)
				__asm__ volatile("cli; hlt");
		}
		/* A double fault leaves no state worth resuming into. The
		 * hook abandons the faulting test and the run goes on: the
		 * runner is back for it. A fatal end prints in place. */
		if (exc_hook && v != 8) {
			offload_set(run);
			exc_hook(f);
			offload_set(NULL);
		}
		platform_fatal("unhandled CPU exception");
	}
	if (handlers[v].fn)
		handlers[v].fn(f, handlers[v].ctx);
	if (v >= VEC_PIC_BASE && v < VEC_DYN_FIRST) {
		/* The 8259s are masked; a spurious IRQ7/IRQ15 needs no EOI, and
		 * anything else gets one so the PIC does not wedge. */
		if (v != VEC_PIC_BASE + 7 && v != VEC_PIC_BASE + 15) {
			if (v >= VEC_PIC_BASE + 8)
				outb(0xA0, 0x20);
			outb(0x20, 0x20);
		}
	} else if (v != VEC_SPURIOUS) {
		lapic_eoi();
	}
}

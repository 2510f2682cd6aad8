/* GDT with a TSS (its IST stack catches double faults), the IDT, exception
 * reports, and a small vector-based interrupt registration API. */
#ifndef ARCH_IDT_H
#define ARCH_IDT_H

#include "vectors.h"
#include "lib/types.h"

/* What the entry stub saved, lowest address first. */
struct int_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rdi, rsi, rbp, rbx, rdx, rcx, rax;
	u64 vector, error;
	u64 rip, cs, rflags, rsp, ss;	/* pushed by the CPU */
};

typedef void (*irq_fn)(struct int_frame *f, void *ctx);

/* Saved context for abandoning a computation (see isr.S). */
struct jmp_ctx { u64 rbx, rbp, r12, r13, r14, r15, rsp, rip; };
int ctx_save(struct jmp_ctx *c) __attribute__((returns_twice));
void ctx_restore(struct jmp_ctx *c, int v) __attribute__((noreturn));

/* Loads the GDT, TSS and IDT, with the exception gates (0-31) filled.
 * Interrupts stay disabled. */
void idt_init(void);
/* The gates of the interrupt vectors (32-255), which idt_init leaves not
 * present: filled at CPL 3 (lib/offload.h) once usermode_init has run,
 * before interrupts are enabled, where the 224 gates took ~4 ms of
 * interpreted ring 0 under kvm_pvm. */
#define VEC_FIRST_IRQ	32
void idt_init_irqs(void);
/* The TSS's RSP0: the stack an interrupt taken at CPL 3 runs on (the boot
 * CPU's; user_entry.S sets it). */
void *idt_rsp0_slot(void);
/* An application processor's share: the same GDT and IDT, no TSS (a
 * double fault there is not caught on a separate stack). */
void idt_load_ap(void);
/* Installs fn for vector; returns -EINVAL when vector is an exception or
 * already taken. The dispatcher sends the LAPIC EOI after fn returns for
 * every vector from VEC_DYN_FIRST up (not for VEC_SPURIOUS). */
int irq_set_handler(u8 vector, irq_fn fn, void *ctx);
void irq_clear_handler(u8 vector);
/* A free vector in VEC_DYN_FIRST..VEC_DYN_LAST with fn installed on it,
 * or -1 when none is left. */
int irq_alloc(irq_fn fn, void *ctx);
/*
 * Called after an exception has been printed, with the frame. When it
 * returns (or none is set) the run ends with ERROR. The test runner uses
 * it to abandon the faulting test and go on.
 */
void exception_set_hook(void (*hook)(struct int_frame *f));

#endif

/*
 * Running pure computation at CPL 3 (lib/offload.h says why and what such
 * code may do). The boot CPU only: the application processors load no
 * TSS, so an interrupt taken at CPL 3 there would find no kernel stack.
 * Elsewhere, before usermode_init, and when called while a CPL-3 call is
 * suspended (an interrupt handler that interrupted one), fn runs directly.
 */
#ifndef ARCH_USERMODE_H
#define ARCH_USERMODE_H

#include "lib/offload.h"

/* Selectors of the CPL-3 segments in the GDT (arch-x86/idt.c), RPL 3. */
#define USER_DS		0x2B
#define USER_CS		0x33

/* Arms usermode_run (after idt_init and smp_early_init). */
void usermode_init(void);
/* Calls fn(arg) at CPL 3 on a stack of its own, with the caller's
 * interrupt flag; returns fn's value. An offload_runner. */
u64 usermode_run(offload_fn fn, void *arg);

#endif

/*
 * Per-CPU data: one struct percpu per CPU, found through the GS base.
 * Anything that needs "which CPU am I" includes this, not smp.h, so that
 * drivers and the interrupt code do not depend on SMP start-up.
 */
#ifndef ARCH_PERCPU_H
#define ARCH_PERCPU_H

#include "cpu.h"

/*
 * CPUs tickscope starts, at most. QEMU 7.2's largest machine (q35) takes
 * 288 vCPUs and KVM hosts commonly allow 1024; 512 covers the former with
 * room and costs 8 MiB of AP stacks (smp.c, not zeroed) plus 512 small per-CPU
 * records, which the smallest VM we boot (128 MiB) holds easily. Enabled
 * MADT CPUs beyond it are counted and reported (smp_left_out), not started.
 */
#define SMP_MAX_CPUS	512
#define MSR_GS_BASE	0xC0000101

/* One per CPU; GS points at it. index must stay the first field. */
struct percpu {
	u32 index;
	u32 apic_id;
	volatile bool online;
	volatile bool failed;		/* did not start, or faulted */
	void (*volatile work)(void *arg);
	void *volatile work_arg;
	volatile u64 work_seq, done_seq;
	volatile u64 ticks;		/* test counters, one writer each */
	volatile u64 ipis;
	volatile u64 irq_tsc;
	volatile u64 stolen_periods;	/* periods it did not run (tests) */
	u64 sipi_tsc;			/* BSP's TSC at its first STARTUP IPI */
	volatile u64 online_tsc;	/* its own TSC when it came online */
	u64 start_us;			/* online_tsc - sipi_tsc, in us */
	const char *not_sent;		/* why no STARTUP IPI was sent, or NULL */
};

/* This CPU's index (0 = the boot CPU). */
static inline u32 this_cpu(void)
{
	u32 i;

	__asm__ volatile("movl %%gs:0, %0" : "=r"(i));
	return i;
}

/* This CPU's own area. Reads the GS base MSR (an exit under a
 * hypervisor): for rare paths such as an exception report. */
static inline struct percpu *this_percpu(void)
{
	return (struct percpu *)(uintptr_t)rdmsr(MSR_GS_BASE);
}

#endif

/* The TSC: its clocksource, the early estimate of its rate that sets the
 * ruler (arch-x86/delay.h), and what CPUID claims the rate is. */
#ifndef DRIVERS_TSC_H
#define DRIVERS_TSC_H

#include "lib/types.h"

struct cpu_info;

/*
 * Early estimate of the TSC rate, good to ~0.5 %, for timeouts and rough
 * timing before the clocksource calibration runs: PIT channel 2 over
 * 10 ms, else CPUID 0x15/0x16/0x40000010. Returns 0 and sets the ruler, or
 * -ENODEV when no source answered (the ruler then assumes 1 GHz, and the
 * report says so); *why then says what each source showed.
 */
int tsc_early_calibrate(const struct cpu_info *ci, const char **why);
/* Sets the ruler rate (arch-x86/delay.h) and the clocksource's freq_hz,
 * after a better calibration. */
void tsc_set_hz(u64 hz, const char *source);

/* Registers the "tsc" clocksource (LFENCE;RDTSC, ordered after earlier
 * instructions; RDTSCP is reported but not needed). Its freq_hz follows
 * tsc_set_hz. Returns 0, or -ENODEV without a TSC. */
int tsc_clocksource_init(const struct cpu_info *ci);

/* What the CPU and hypervisor claim the TSC rate is. */
struct tsc_claims {
	u64 cpuid15_hz;		/* crystal × ratio (0 = not given) */
	u64 cpuid16_hz;		/* base frequency (0 = not given) */
	u64 hv_hz;		/* leaf 0x40000010 (0 = not given) */
	u64 kvmclock_hz;	/* from the pvclock scale (0 = no kvm-clock) */
};
void tsc_read_claims(const struct cpu_info *ci, struct tsc_claims *c);
/* The best CPU claim: leaf 0x15, else the hypervisor leaf, else 0x16. */
u64 tsc_cpuid_claim(const struct tsc_claims *c, const char **which);

#endif

/* The TSC as the kernel's ruler for bounded waits and timestamps. */
#ifndef DRIVERS_TSC_H
#define DRIVERS_TSC_H

#include "lib/types.h"

struct cpu_info;

/*
 * Early estimate of the TSC rate, good to ~0.5 %, for timeouts and rough
 * timing before the clocksource calibration runs: PIT channel 2 over
 * 10 ms, else CPUID 0x15/0x16/0x40000010. Returns 0 and sets the ruler, or
 * -ENODEV when no source answered (the ruler then assumes 1 GHz, and the
 * report says so).
 */
int tsc_early_calibrate(const struct cpu_info *ci);
/* The current ruler rate in Hz and where it came from ("pit", a CPUID
 * leaf, a calibration reference, or "assumed"). */
u64 tsc_hz(void);
const char *tsc_hz_source(void);
/* Replaces the ruler rate (after a better calibration). */
void tsc_set_hz(u64 hz, const char *source);
/* Cycles to nanoseconds and back, at the ruler rate. */
u64 tsc_to_ns(u64 cycles);
u64 ns_to_tsc(u64 ns);
/* Busy-waits us microseconds by the TSC. */
void tsc_delay_us(u64 us);

/*
 * Time this CPU did not run. A virtual CPU can be descheduled by the host
 * (or stalled by its emulator); an interrupt cannot be taken meanwhile,
 * and periodic ones coalesce. Busy-waiting and watching for gaps between
 * consecutive TSC reads shows how long, and how many periods of a given
 * length fell entirely inside such gaps.
 */
struct steal {
	u64 gaps;		/* gaps of at least one period */
	u64 cycles;		/* their total length */
	u64 periods;		/* whole periods inside them */
};
/* Busy-waits (interrupts as they are) until TSC `end`, accounting gaps
 * of at least `period` cycles into s. */
void tsc_wait_steal(u64 end, u64 period, struct steal *s);

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

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
/* The current ruler rate in Hz and where it came from ("pit", "cpuid15",
 * "cpuid16", "hv", "assumed"). */
u64 tsc_hz(void);
const char *tsc_hz_source(void);
/* Replaces the ruler rate (after a better calibration). */
void tsc_set_hz(u64 hz, const char *source);
/* Cycles to nanoseconds and back, at the ruler rate. */
u64 tsc_to_ns(u64 cycles);
u64 ns_to_tsc(u64 ns);
/* Busy-waits us microseconds by the TSC. */
void tsc_delay_us(u64 us);

#endif

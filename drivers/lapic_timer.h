/* The local APIC timer as clockevents: "lapic" (periodic and oneshot,
 * divide by 16) and "tscdeadline" (oneshot at an absolute TSC value), and
 * plain access to it for the watchdog and the per-CPU tick tests. */
#ifndef DRIVERS_LAPIC_TIMER_H
#define DRIVERS_LAPIC_TIMER_H

#include "lib/types.h"

#define LAPIC_TIMER_DIV16	0x3	/* divide configuration values */
#define LAPIC_TIMER_DIV128	0xA
/* The boot estimate's window against the TSC: only a seed, since
 * measure/lapic_rate.c fits the rate over the calibration's window and
 * sets it (lapic_timer_set_hz), its figure the same for any seed near the
 * rate. 4 ms puts the estimate within ~0.5 % where each read exits under
 * kvm_pvm (~10 us brackets); 20 ms cost that much of every boot. */
#define LAPIC_CAL_US		4000

struct cpu_info;

struct lapic_timer_info {
	u64 freq_hz;		/* timer input after the divider, as used */
	u64 measured_hz;	/* the boot estimate: two reads LAPIC_CAL_US apart */
	u64 claimed_hz;		/* CPUID 0x15 crystal or hypervisor leaf / 16; 0 = none */
	const char *claim_source;
};

/*
 * Calibrates the timer against the TSC (and notes what CPUID or the
 * hypervisor claims), then registers "lapic" and, when CPUID offers
 * TSC-deadline mode, "tscdeadline". Returns 0 or -ENODEV (no LAPIC);
 * *why_deadline explains a missing TSC-deadline mode.
 */
int lapic_timer_init(const struct cpu_info *ci, const char **why, const char **why_deadline);
const struct lapic_timer_info *lapic_timer_info(void);

/*
 * This CPU's LAPIC timer used directly, outside the clockevents: the test
 * runner's watchdog and the per-CPU tick tests. The "lapic" and
 * "tscdeadline" clockevents must be idle meanwhile (watchdog_pause).
 */
/* Programs divide configuration div, LVT mode (LVT_TIMER_ONESHOT or
 * LVT_TIMER_PERIODIC) on vector, then the initial count, which starts it. */
void lapic_timer_start(u32 div, u32 mode, u8 vector, u32 count);
/* Masks the LVT and stops the count. */
void lapic_timer_stop(void);
/* Counts down from 0xFFFFFFFF, masked, at divide configuration div for
 * us microseconds by the TSC ruler; returns how many ticks it counted. */
u32 lapic_timer_count_for(u32 div, u64 us);
/* Runs the timer free, masked and periodic from 0xFFFFFFFF at divide
 * configuration div, so that the current count is a 32-bit down-counter
 * (stop it with lapic_timer_stop); and reads that count. */
void lapic_timer_freerun(u32 div);
u32 lapic_timer_current(void);
/* Replaces the divide-by-16 rate the clockevents are programmed with: a
 * measurement finer than the boot estimate (measure/lapic_rate.c). */
void lapic_timer_set_hz(u64 hz);

#endif

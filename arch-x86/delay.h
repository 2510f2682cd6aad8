/*
 * The TSC as the kernel's ruler: its rate, conversions between cycles and
 * nanoseconds, and bounded busy-waits. The rate starts as an assumed
 * 1 GHz; the TSC driver sets it from its early estimate and again after
 * calibration (measure/). Nothing here measures it.
 */
#ifndef ARCH_DELAY_H
#define ARCH_DELAY_H

#include "lib/types.h"

/* The current ruler rate in Hz and where it came from ("pit", a CPUID
 * leaf, a calibration reference, or "assumed"). */
u64 tsc_hz(void);
const char *tsc_hz_source(void);
/* Replaces the ruler rate; only the TSC driver calls it (tsc_set_hz). */
void tsc_ruler_set(u64 hz, const char *source);
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

#endif

/*
 * Timekeeping: monotonic nanoseconds from a clocksource with Linux's
 * mult/shift conversion, and wall time seeded from the RTC at boot.
 */
#ifndef TICK_TIMEKEEPING_H
#define TICK_TIMEKEEPING_H

#include "lib/types.h"

struct clocksource;

/*
 * mult and shift such that ns = (cycles * mult) >> shift converts from
 * `from` Hz to `to` Hz for up to maxsec seconds of cycles without the
 * product overflowing 64 bits, with the largest shift (best precision)
 * that allows: Linux's clocks_calc_mult_shift.
 */
void clocks_calc_mult_shift(u32 *mult, u32 *shift, u64 from, u64 to, u64 maxsec);

struct timekeeper {
	struct clocksource *cs;
	u64 cycle_last;		/* counter value at the last update */
	u64 sec;		/* monotonic time at cycle_last: seconds ... */
	u64 snsec;		/* ... and ns within it, shifted left by shift, so
				 * that updates do not drop the fractions */
	u32 mult, shift;
	u64 max_cycles;		/* longest delta mult/shift handles */
	u64 wall_base_ns;	/* Unix ns at monotonic 0 */
};

/*
 * Starts timekeeping on cs at monotonic 0 with wall time wall_ns now.
 * mult/shift are computed for the longest interval allowed between
 * updates: 10 s, or half a wrap of a narrower counter.
 */
void timekeeping_init(struct timekeeper *tk, struct clocksource *cs, u64 wall_ns);
/* Monotonic ns now (reads the clocksource). */
u64 tk_now_ns(struct timekeeper *tk);
/* Folds the elapsed cycles into sec/snsec; must be called more often than
 * max_cycles (the tick does), or narrow counters lose wraps. */
void tk_update(struct timekeeper *tk);
/* Wall-clock Unix ns now. */
u64 tk_wall_ns(struct timekeeper *tk);
/* The conversion alone, for tests: ns for delta cycles. */
static inline u64 tk_cyc2ns(const struct timekeeper *tk, u64 delta)
{
	return (delta * tk->mult) >> tk->shift;
}

#endif

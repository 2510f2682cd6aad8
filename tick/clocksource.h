/*
 * Clocksources: free-running counters, shaped as Linux's struct
 * clocksource. Drivers fill one in and register it; tests and the tick
 * layer find them here.
 */
#ifndef TICK_CLOCKSOURCE_H
#define TICK_CLOCKSOURCE_H

#include "lib/types.h"

#define CS_MAX		8

/* Flags. */
#define CS_EXITS	(1u << 0)	/* a read traps to the hypervisor (port/MMIO) */
#define CS_TSC_BASED	(1u << 1)	/* derived from the TSC: no independent reference */
#define CS_EVENTS	(1u << 2)	/* counts events (RTC flags), polled, not read */
#define CS_WIDTH_FIT	(1u << 3)	/* calibration: the read's place in its bracket
					 * moves with the bracket's width (measure/calfit.h) */

/* A read of a source computed from the TSC, with what it was computed
 * from (see read_exact below). */
struct cs_exact {
	u64 tsc;		/* the TSC value the read converted */
	s64 steps;		/* the sum of the steps (counts) its parameters
				 * have made so far on this CPU */
	u64 rebases;		/* how many times they changed so far */
};

struct clocksource {
	const char *name;	/* short, lowercase: tsc, hpet, pm, pit, kvmclock */
	int rating;		/* Linux's scale: 1-99 unfit ... 400 ideal */
	u64 (*read)(struct clocksource *cs);
	/* Optional, for a CS_TSC_BASED source: read, and fill *e, so that
	 * a calibration pairs each value with its own TSC exactly and can
	 * take out the steps a hypervisor's re-base made (kvm-clock). */
	u64 (*read_exact)(struct clocksource *cs, struct cs_exact *e);
	u64 mask;		/* counter width: values wrap at mask + 1 */
	u64 freq_hz;		/* nominal rate, from hardware or the spec */
	u32 flags;
	const char *read_method; /* how a read is done, for the report */
	void *priv;
};

/* Adds cs; returns -EINVAL when the table is full or cs is malformed
 * (no read, mask or frequency). */
int clocksource_register(struct clocksource *cs);
/* The registered source named name, or NULL. */
struct clocksource *clocksource_find(const char *name);
/* Number registered, and the i-th in registration order. */
int clocksource_count(void);
struct clocksource *clocksource_get(int i);
/* The highest-rated source, or NULL when there is none. */
struct clocksource *clocksource_best(void);
/* A driver's probe for a counter that does not count: reads cs until the
 * value changes, at most CS_PROBE_READS times after the first read.
 * Returns whether it changed; *first is the first value read. */
#define CS_PROBE_READS	100000
bool clocksource_counts(struct clocksource *cs, u64 *first);

/* Records why a device (clocksource or clockevent) is not registered,
 * for the tests to SKIP or FAIL with; broken (rc == -EIO) means it was
 * there but misbehaved. The first reason recorded for a name is kept. */
void tick_absent(const char *name, int rc, const char *why);
/* The reason recorded for name and its code, or NULL when none was. */
const char *tick_why(const char *name, int *rc);

/*
 * How long cs takes to wrap, in ns: (mask + 1) / freq_hz; UINT64_MAX for
 * a 64-bit counter (or one that would not wrap within 2^64 ns). A 24-bit
 * PM timer wraps in 4.69 s, a 32-bit one in 1200 s, a 32-bit HPET at
 * 14.31818 MHz in 300 s. Reads less than half this apart extend plainly
 * (cs_extend); a window longer than that needs cs_extend_hint.
 */
u64 cs_wrap_ns(const struct clocksource *cs);

/*
 * A wrap-extended reader: feeds successive raw reads and accumulates the
 * elapsed count in 64 bits. Correct as long as reads are less than half a
 * wrap apart; a step of more than half the mask is taken as going
 * backwards (and counted), since a real counter cannot get that far.
 */
struct cs_extender {
	u64 last;
	u64 total;
	u64 backwards;
	u64 back_max;		/* the largest step back, ticks */
	u64 wraps;
	u64 missed;		/* wraps only cs_extend_hint found */
};

void cs_extend_start(struct cs_extender *e, u64 raw);
/* Adds the step from the previous raw value; returns the total. */
u64 cs_extend(struct cs_extender *e, const struct clocksource *cs, u64 raw);
/*
 * As cs_extend, for a read taken elapsed +- slack counts after the
 * previous one by another clock (the TSC between the two reads'
 * brackets, converted by the caller): the step is the raw difference plus
 * the whole number of wraps that brings it nearest to elapsed. The plain
 * extender takes a step of more than half the mask for going backwards,
 * so a reader kept away for longer than half a wrap (a vCPU descheduled
 * 30 ms with the PIT's 55 ms wrap, even inside one read) loses a wrap or
 * counts a step back. With the hint it does not, as long as elapsed is
 * right to within half a wrap. When elapsed + slack is below half a wrap
 * it is cs_extend itself. e->missed counts the wraps (and forward steps)
 * only the hint saw.
 */
u64 cs_extend_hint(struct cs_extender *e, const struct clocksource *cs, u64 raw, u64 elapsed,
		   u64 slack);

#endif

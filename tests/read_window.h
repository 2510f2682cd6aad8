/*
 * One window of reads of every clocksource under test, taken once and
 * shared by the read_cost and monotonic tests of each (clocksource_test.c).
 * The counters are read round-robin, a short burst of back-to-back reads of
 * each in turn, every read bracketed by ordered TSC reads, and each
 * counter's reads kept in its own sample set: a read's cost is its own
 * bracket, the backwards check compares consecutive reads of one counter,
 * and the smallest step comes from the back-to-back reads of a burst.
 * Where every read exits to a slow hypervisor (kvm_pvm: 5-60 us each) one
 * window replaces twelve, and a pause the host makes falls on all counters
 * alike instead of on whichever test was running.
 */
#ifndef TESTS_READ_WINDOW_H
#define TESTS_READ_WINDOW_H

#include "test.h"
#include "lib/stats.h"
#include "tick/clocksource.h"

#define RW_BURST	5		/* back-to-back reads of one counter per turn
					 * (odd: the kept cost samples then fall on
					 * every place in a burst alike) */
#define RW_COST_KEEP	1000		/* read costs kept per counter, thinned
					 * evenly over the window when there are more */
#define RW_COST_MIN	100		/* reads a counter needs for its p99 */
#define RW_SPAN_NS	50000000ull	/* the monotonic check's least span */
#define RW_ENOUGH	100000		/* reads of each beyond which the window
					 * may end before its span */
#define RW_BOUND_NS	500000000ull	/* hard bound on the window */
#define RW_OVER_READS	200		/* empty brackets timed for the overhead */

#define RW_WRAP_FIRST	64		/* a watched wrap's first reads, kept to
					 * choose its start from */

/* One read of a counter whose wrap the window watches: the middle and
 * width of its bracket (TSC) and its extended count. */
struct rw_wrap_read {
	u64 mid, width, total;
};

/*
 * A narrow counter's wrap, watched in the window for its wrap test
 * (tests/devices_test.c), which would otherwise read it alone for as
 * long again: the window then lasts until `want` after `t0`.
 */
struct rw_wrap {
	u64 want;		/* cycles the window spans after t0; 0: not watched */
	u64 due;		/* cycles after t0 by which the wrap is due */
	u64 t0;			/* TSC before the counter's first read */
	u64 n, minw;		/* reads of it, and their narrowest bracket */
	struct rw_wrap_read first[RW_WRAP_FIRST];
	struct rw_wrap_read last;	/* the narrowest read once the wrap was
					 * due (mid 0: none) */
};

/* Keeps one read (bracket a..b, extended count total) of a watched wrap:
 * the first RW_WRAP_FIRST, the narrowest bracket, and the narrowest read
 * once the wrap was due. Set t0, due, minw = UINT64_MAX (and n = 0, last
 * zero) first. The wrap test's own windows keep theirs the same way. */
void rw_wrap_keep(struct rw_wrap *r, u64 a, u64 b, u64 total);
/* The wrap's start: the earliest kept read whose bracket is within twice
 * the narrowest (*s0 zero when none is). */
void rw_wrap_start(const struct rw_wrap *r, struct rw_wrap_read *s0);

/* What the window saw of one counter. */
struct rw_source {
	struct clocksource *cs;
	u64 reads;		/* reads of it in the window */
	struct summary cost;	/* read cost, cycles, bracket overhead taken
				 * out: min and max over every read, p50 and
				 * p99 over the kept ones */
	u32 kept;		/* cost samples kept (every `stride`-th read):
				 * p50 and p99 are theirs */
	u32 stride, skip;
	struct cs_extender e;	/* its reads extended over wraps; e.backwards
				 * counts steps back between consecutive reads */
	u64 minstep;		/* smallest forward step between consecutive
				 * reads, ticks; UINT64_MAX when none */
	/* Running state: the extended count, the previous read's bracket,
	 * and how long after it a read extends plainly (TSC cycles). */
	u64 total, prev_a, prev_b, plain_cyc;
	u64 back;		/* planted: ticks its 11th read steps back */
	struct rw_wrap wrap;
	u64 samples[RW_COST_KEEP];
};

struct read_window {
	bool done;
	int n;			/* counters read */
	struct rw_source s[CS_MAX];
	u64 over;		/* cycles of an empty bracket, subtracted */
	u64 t0, t1;		/* TSC at its first and last read */
	u64 rounds;
	u64 gap_max;		/* the longest pause between two reads, cycles */
	u64 gap_at;		/* and when it began, cycles after t0 */
	const char *ended;	/* why the window ended */
	bool slow, back;	/* planted: plant=read_cost, plant=monotonic */
};

/*
 * The window, measured on the first call (which prints what it read, how
 * long, and why it stopped) over every registered counter whose read_cost
 * or monotonic test is selected: it ends once it spans RW_SPAN_NS and
 * every counter has RW_COST_MIN reads, or once every counter has RW_ENOUGH
 * reads, and at RW_BOUND_NS whatever it has; a counter whose wrap test
 * is selected and whose wrap and a quarter fit in half the bound is read
 * too, and the window lasts until then (rw_wrap). Later calls return the
 * same.
 * The planted faults apply here: plant=read_cost makes every read 200 us
 * slower, plant=monotonic makes one read of each counter a millisecond
 * behind the one before it.
 */
const struct read_window *read_window(struct test_env *env);

/* The window's record of the counter named name, NULL when it was not read. */
const struct rw_source *read_window_source(const struct read_window *w, const char *name);

#endif

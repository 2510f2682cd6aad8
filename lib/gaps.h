/*
 * A set of time intervals (TSC cycles) when something was not running:
 * the vCPU (gaps between its own polls) or the emulator behind a device
 * (seen late through a witness). It answers what a measurement needs to
 * excuse: how long, and how many events of a periodic grid fell due
 * inside and could have been coalesced there. Pure logic, host-tested.
 */
#ifndef LIB_GAPS_H
#define LIB_GAPS_H

#include "types.h"

#define GAPS_MAX	32

struct gapset {
	u64 start[GAPS_MAX], end[GAPS_MAX];	/* sorted, disjoint, end > start */
	int n;
	u64 merged;		/* intervals merged to stay within GAPS_MAX */
};

/* Empties s. */
void gaps_init(struct gapset *s);
/*
 * Adds [start, end) (ignored when empty), merging it with every interval
 * it overlaps or touches. When the set is full, the two intervals with
 * the shortest space between them are merged (the space counted as
 * absent: an excuse may grow, a gap is never lost) and s->merged counts it.
 */
void gaps_add(struct gapset *s, u64 start, u64 end);
/* Adds every interval of b to a. */
void gaps_union(struct gapset *a, const struct gapset *b);
/* Starts every interval `before` earlier (not below 0), merging those that
 * then overlap. */
void gaps_widen(struct gapset *s, u64 before);
/* Merges neighbours less than `space` apart (the space counted in). */
void gaps_bridge(struct gapset *s, u64 space);
/* Removes [start, end) from s (an interval may split in two). */
void gaps_remove(struct gapset *s, u64 start, u64 end);
/* The total length of the intervals, and of their part inside [lo, hi). */
u64 gaps_total(const struct gapset *s);
u64 gaps_total_in(const struct gapset *s, u64 lo, u64 hi);
/* The longest interval. */
u64 gaps_longest(const struct gapset *s);
/* True when t lies inside an interval. */
bool gaps_covers(const struct gapset *s, u64 t);
/*
 * Events due at t0 + k * period for k in [k_first, k_last] that can have
 * been coalesced because nothing ran: inside one interval, all the events
 * due there are raised (or taken) together when it ends, and only one is
 * delivered, so each interval holding m of them excuses m - 1.
 */
u64 gaps_coalesced(const struct gapset *s, u64 t0, u64 period, u64 k_first, u64 k_last);
/*
 * Ticks still pending when an absence ended: a device's interrupt raised
 * while nothing took it waits (one IRR bit, one flag) until it is taken,
 * and every tick that falls due meanwhile merges into it. For each
 * interval [a, b) of s: when the grid t0 + k * period has a point d in it
 * and no stamp lies in [d, b) (the tick due at d was not taken before the
 * absence ended), the interval is lengthened to the first stamp t >= b,
 * the tick's delivery, provided t comes less than a period after b (so
 * at most one more grid point joins the interval; a delivery later than
 * that is not this tick's). stamps[0..n) ascending. Intervals that come
 * to overlap are merged.
 */
void gaps_pending(struct gapset *s, const u64 *stamps, u64 n, u64 t0, u64 period);
/*
 * The same without knowing the grid's phase: an interval of length L holds
 * at most floor(L / period) + 1 events, so it excuses floor(L / period),
 * counting only the part inside [lo, hi).
 */
u64 gaps_coalesced_any(const struct gapset *s, u64 period, u64 lo, u64 hi);

#endif

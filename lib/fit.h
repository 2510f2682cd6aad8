/*
 * The rate of periodic events from their timestamps. An interrupt is only
 * ever late, never early: its timestamp is the device's tick plus a
 * delivery delay that is at least some floor and often much more (a busy
 * emulator, a descheduled vCPU). A least-squares line through such points
 * carries the delays' drift into the rate, an endpoint estimate the whole
 * delay of two samples. The lower envelope does not: the line that lies
 * below every point (k_i, t_i) and is as high as it can be at the mean k
 * (the linear programme of Moon, Skelly and Towsley, "Estimation and
 * removal of clock skew from network delay measurements", 1999) is set by
 * the least-late samples alone, those on the floor.
 */
#ifndef LIB_FIT_H
#define LIB_FIT_H

#include "types.h"

#define ENV_BLOCKS	8	/* blocks the floor's flatness is judged over */
#define ENV_MIN_POINTS	3

/* The line through (ka, ta) and (kb, tb), two points of the lower convex
 * hull: its slope (tb - ta) / (kb - ka) is the period in time units. */
struct envelope {
	u64 ka, ta, kb, tb;
	u64 hull;		/* points on the lower convex hull */
	/*
	 * How well the slope is known, in ppb: the envelope is only right if
	 * the least-late events of every part of the window sit on the same
	 * floor. Split into up to ENV_BLOCKS blocks of at least two points,
	 * the highest block floor above the line, over the span, is how far
	 * that fails. It is measured about the fitted line, so a rate error
	 * does not widen it (the spread about the expected grid would).
	 */
	u64 unc_ppb;
	u64 floor_max;		/* that highest block floor, time units */
	u64 lag_p50;		/* median height of the points above the line */
};

/*
 * Fits the lower envelope through the n points (k[i], t[i]), k strictly
 * increasing (event numbers; gaps are lost events), t in any order above
 * t[0] - 2^62. Exact for differences of t below 2^62 and of k below 2^31.
 * scratch must hold n values. Returns 0, or -EINVAL with fewer than
 * ENV_MIN_POINTS points, k not increasing, or a line that does not rise.
 */
int envelope_fit(const u64 *k, const u64 *t, u64 n, u64 *scratch, struct envelope *e);

/*
 * Numbers events seen at times t[0..n) (increasing) on a grid of
 * `period`: each gets the number of the last grid point at or before it,
 * counted from the first event's. The grid's phase is where the events'
 * phases (t - t[0] modulo the period) begin after the largest gap around
 * the circle: events are only ever late, so none fall just before a grid
 * point, while rounding to the nearest point would number an event seen
 * more than half a period late as the next one, early. k may repeat (two
 * sightings of one event); scratch must hold n values. Returns the
 * largest lateness on that grid: from half a period on, which event a
 * sighting belongs to is ambiguous (one a period late looks like the
 * next one on time), and a rate error can hide in the numbering.
 */
u64 grid_place(const u64 *t, u64 n, u64 period, u64 *k, u64 *scratch);

/*
 * How far the bulk of the delivery delays moves against e's line over
 * the window, in ppb of the rate: the median height above the line of the
 * last third of the n points less the first third's, over the time between
 * the thirds' centres, plus both medians' own 1-sigma (the heights of the
 * ranks sqrt(q) / 2 either side of the median of q, half their distance),
 * combined. A constant delay does not count, and neither does a rate
 * error (both thirds sit above the same line): what counts is the floor
 * leaving the bulk, a tilt of the envelope that every block's floor can
 * follow. Needs n >= 6 (else the largest height over the span); scratch
 * holds n / 3 values.
 */
u64 envelope_trend_ppb(const u64 *k, const u64 *t, u64 n, const struct envelope *e, u64 *scratch);
/* Events per second times scale (1000: mHz) of a fitted envelope whose t
 * counts at base_hz (a TSC rate); saturates at UINT64_MAX. */
u64 envelope_rate(const struct envelope *e, u64 base_hz, u64 scale);

#endif

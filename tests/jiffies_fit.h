/*
 * tick.periodic's window and fit (tests/jiffies_fit.c): jiffies against
 * the TSC at the instants they advance, over the stretches of presence.
 */
#ifndef TESTS_JIFFIES_FIT_H
#define TESTS_JIFFIES_FIT_H

#include "absence.h"
#include "periodic.h"
#include "tick/tick.h"

#define FIT_MIN_TICKS	50	/* ticks a jiffies fit holds at least, for a fit
				 * whose stated uncertainty holds under load
				 * (see TEST(tick, periodic)) */

/* A count read's bracket up to this many times the window's median is
 * fitted; a wider one was held up inside the read. (Against the narrowest,
 * as the guide's "within 2x the narrowest", a default TCG run left out
 * half its reads: 100 ns the narrowest, 400 ns common.) */
#define COUNT_WIDE_FACTOR	4

/* One window of the periodic tick: every jiffy's advance and the TSC of
 * the interrupt that made it, watched for the host's absences. */
struct jiffy_window {
	u64 j0, t0, j1, t1;
	u64 n;			/* advances seen (jif_k, jif_t) */
	s64 lost;		/* jiffies due by the TSC but not counted */
	u64 excused;		/* ticks due while the vCPU or the emulator did not run */
	u64 window_ns;		/* how long it ran, by the TSC */
	u64 extended;		/* times it was lengthened for its uncertainty */
	u64 stolen, stolen_ns;	/* advances taken in a poll step in which KVM
				 * counted steal time, and that steal */
	bool by_count;		/* stamped by the device's own count (below) */
	u64 count_wide;		/* count reads too wide to stamp by: by arrival */
	struct watch w;
};

/* The jiffies' rate fitted over the present stretches of a window. */
struct present_fit {
	struct periodic_fit f;	/* the fit (rate, uncertainty, points, span) */
	u64 stretches;		/* present stretches it spans */
	u64 left_out;		/* advances left out: each ended an absence, was
				 * held up by a short one, or lay in a stretch too
				 * short or too far off the line */
	u64 absences, disagree;	/* steps that crossed a seen absence; whose jiffies
				 * disagreed with their time (and no absence seen) */
	bool ambiguous;		/* a stretch's floor a quarter period off the line */
	u64 stretches_out;	/* stretches left out as that far off */
	u64 floor_ppb, trend_ppb;	/* the fit's uncertainty terms: the floor's
				 * flatness, the lateness's trend against it */
	u64 tol_ppb;		/* the tolerance periodic_judge will hold it to */
	u64 read_half;		/* the widest half-bracket of a count read among
				 * the points fitted (0: stamped by arrival) */
	u64 read_min;		/* the narrowest (0: none) */
	u64 read_out;		/* advances left out as read too widely */
};

/*
 * The LAPIC timer's ticks are stamped by its own count, not by the
 * interrupt's arrival: each advance at the start of the device period its
 * interrupt came in, found by reading the current count (how far into its
 * period the device is) bracketed by the TSC. The host's delivery delay
 * (under kvm_pvm a median of 2-3 ms above the floor at load ~15; under
 * TCG beside three load boots as much) then does not scatter the stamps,
 * and a tick it held past its period shows as jiffies that disagree with
 * their time. Other devices are stamped by arrival.
 */
bool jiffy_by_count(const struct clockevent *ce);

/*
 * One window of at least min_ns of the tick running on ce, lengthened (at most
 * to max_ns of this vCPU's presence, and 2 max_ns in all) until the fit
 * over its stretches of presence gives a tolerance of at most target_ppb
 * against x; the advances are kept for jiffy_fit.
 */
void jiffy_window(struct clockevent *ce, u64 min_ns, u64 max_ns, u64 target_ppb,
		  const struct rate_expect *x, struct jiffy_window *w);
/* Fits the last window's advances over its stretches of presence (this
 * vCPU's and the emulator's absences left out), plant_rate= applied. */
void jiffy_fit(struct test_env *env, const struct jiffy_window *w, const struct rate_expect *x,
	       struct present_fit *p);
/* One jiffy of slack for the window's ends, and the ticks excused. */
s64 jiffy_slack(const struct jiffy_window *w);
/* The host kept this vCPU (or the emulator) away for most of the window. */
bool mostly_away(const struct jiffy_window *w);

#endif

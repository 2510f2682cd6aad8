/*
 * The rate fit of the TSC calibration, apart from the sampling so that it
 * touches no hardware and the host tests can drive it at its extremes
 * (4096 samples over a 1200 s window at 5 GHz, a 32-bit PM timer, a 2 Hz
 * event source).
 *
 * The rate is the two-group estimate (mean of the second half against
 * mean of the first half; as good as a least-squares fit for evenly
 * spread samples, and exact in integers), refitted once without outliers
 * (beyond 5 robust standard deviations). Its 1-sigma uncertainty is the
 * larger of what the scatter about the fitted line implies and a block
 * jackknife. Sums and products are kept in 128 bits: a sum of 2048 TSC
 * offsets times 2048 overflows 64 bits from a 1170 s window at 5 GHz.
 */
#ifndef MEASURE_CALFIT_H
#define MEASURE_CALFIT_H

#include "tick/clocksource.h"

#define CAL_MAX_SAMPLES	4096
#define CAL_MIN_SAMPLES	8
#define CAL_RETRIES	2	/* windows again for an event source short of samples */

/* One reading of a reference, bracketed by two TSC reads. */
struct cal_sample {
	u64 x;		/* TSC at the middle of the bracket */
	u64 y;		/* extended reference count */
	u32 w;		/* bracket width, cycles */
};

struct cal_result {
	struct clocksource *cs;
	int status;		/* 0, or -EIO when too few usable samples */
	u64 tsc_hz;		/* TSC rate measured against cs */
	u64 unc_ppb;		/* 1-sigma statistical uncertainty, ppb */
	u64 samples, kept;	/* taken, and used in the fit */
	u64 remeasured;		/* windows measured again, this reference alone */
	u64 wide;		/* dropped for a bracket too wide */
	u64 rejected;		/* dropped as outliers by the robust refit */
	u64 min_width, max_width;	/* bracket widths used, cycles */
	u64 span_cycles;	/* TSC time from first to last kept sample */
	u64 back_windows;	/* windows measured again because it stepped back
				 * or counted wraps by the early ruler's hint */
	u64 backwards;		/* steps back seen while reading (the last window) */
	u64 back_max;		/* the largest of them, counter ticks */
	u64 wraps;
	u64 wraps_by_tsc;	/* of them, wraps only the TSC showed (reads more
				 * than half a wrap apart: the host kept us away) */
	/* A source with read_exact (kvm-clock): the times its parameters
	 * changed in the window (the hypervisor's re-base) and the largest
	 * step one made, counts; and calibrate_boot's windows measured
	 * again for a re-base, the re-bases in all its windows, and the
	 * windows measured again for too few usable samples. */
	u64 rebases;
	u64 step_max;
	u64 rebase_windows, rebases_seen, step_max_seen;
	u64 short_windows;
};

/*
 * Fits s[0..n) (n <= CAL_MAX_SAMPLES; more are ignored; x increasing)
 * taken of r->cs, whose freq_hz and flags it uses (an event source's
 * samples are all kept; a counter's only those whose bracket is within 2x
 * the narrowest). Sets r's status, tsc_hz, unc_ppb, kept, rejected,
 * min_width, max_width and span_cycles; tsc_hz saturates at UINT64_MAX.
 */
void cal_estimate(struct cal_result *r, const struct cal_sample *s, u64 n);

#endif

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
 *
 * A source flagged CS_WIDTH_FIT is read through an exit whose cost varies,
 * and a wider bracket does not widen evenly about the read: under KVM
 * (kvm_pvm) the LAPIC's current count is taken at a fixed point of the
 * exit, and of what a slow exit adds, most came before that point (the
 * read sat 0.09-0.37 of the width past the bracket's middle in 305
 * loaded runs). Where the widths drift through the window, the middles
 * then drift against the reads and tilt the line, which neither the
 * scatter nor the jackknife sees (lapic.freq_err_ppm -3.6 with a stated
 * 2.3; -9.6 against a tolerance of 4.3). For such a source each sample's
 * time is its middle plus beta x its width, beta fitted with the rate:
 * the residuals' least-squares slope against the widths, the widths' own
 * trend through the window taken out by the same two-group line, gives
 * both in one pass (Frisch-Waugh-Lovell; a second only when the outliers
 * then change), within +-1/2 (the read lies inside its bracket); what
 * beta's standard error moves the rate by is added to the uncertainty.
 */
#ifndef MEASURE_CALFIT_H
#define MEASURE_CALFIT_H

#include "tick/clocksource.h"

#define CAL_MAX_SAMPLES	4096
#define CAL_MIN_SAMPLES	8
#define CAL_RETRIES	2	/* windows again for an event source short of samples */
#define CAL_WIDTH_ONE	65536	/* width_beta's unit */

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
	u64 gap_max;		/* the longest time between two kept samples next
				 * to each other (the vCPU away), cycles */
	u64 back_windows;	/* windows measured again because it stepped back
				 * or counted wraps by the early ruler's hint */
	u64 backwards;		/* steps back seen while reading (the last window) */
	u64 back_max;		/* the largest of them, counter ticks */
	u64 wraps;
	u64 wraps_by_tsc;	/* of them, wraps only the TSC showed (reads more
				 * than half a wrap apart: the host kept us away) */
	/* CS_WIDTH_FIT: beta (the read's place, past the middle, per cycle
	 * of bracket width) in 1/CAL_WIDTH_ONE, and the uncertainty its
	 * standard error adds to the rate, ppb (included in unc_ppb). */
	s64 width_beta;
	u64 width_unc_ppb;
	/* A source with read_exact (kvm-clock): the times its parameters
	 * changed in the window (the hypervisor's re-base) and the largest
	 * step one made, counts; and calibrate_boot's windows measured
	 * again for a re-base, the re-bases in all its windows, and the
	 * windows measured again for too few usable samples. */
	u64 rebases;
	u64 step_max;
	u64 rebase_windows, rebases_seen, step_max_seen;
	u64 short_windows;
	/* An event source's last window (calibrate.c), in its periods by the
	 * ruler then: the flags due over it, the sightings one period after
	 * the previous one (the device at its rate), and the flags due but
	 * not seen, split by what the poller did meanwhile: `away` inside
	 * steps of a period or more between two of its polls (this vCPU was
	 * not running, or another read held it), `held` where it polled at
	 * least once a period and still saw no flag (whoever sets the flag
	 * did not: under a hypervisor, the emulator's main loop). And the
	 * longest step between two polls, cycles. */
	u64 flags_due, flags_pairs, flags_away, flags_held;
	u64 poll_step_max;
	/* 1 when, of the stretches between flags that the poller watched
	 * whole, the longest is over twice the shortest and two periods (the
	 * flag came erratically) */
	u64 flags_erratic;
	/* calibrate_boot: the sightings one period apart over all of an
	 * event source's windows, its windows with erratic flags, and its
	 * last window's length, ns. */
	u64 pairs_seen, erratic_seen, window_ns;
	/* calibrate_boot: an event source's fitted window that disagreed
	 * with the ruler beyond 3 sigma combined, measured once more alone
	 * (the second judged): that first disagreement, ppb, and its
	 * tolerance (0, 0: none) */
	s64 disagreed_ppb;
	u64 disagreed_tol_ppb;
};

/*
 * True when one gap between kept samples holds more than half of r's span:
 * the vCPU was away for most of the window in one piece, and the samples
 * either side of it carry the whole rate, each with the full weight of its
 * half. The scatter within a cluster says nothing of how far one sample
 * after the absence is off (loaded KVM: 16 samples in the first 1.75 ms,
 * one at 143 ms, lapic.freq_err_ppm +4.3 with a stated 1.08). Callers
 * measure such a window again.
 */
static inline bool cal_lopsided(const struct cal_result *r)
{
	return r->status == 0 && r->gap_max > r->span_cycles / 2;
}

/*
 * Fits s[0..n) (n <= CAL_MAX_SAMPLES; more are ignored; x increasing)
 * taken of r->cs, whose freq_hz and flags it uses (an event source's
 * samples are all kept; a counter's only those whose bracket is within 2x
 * the narrowest). Sets r's status, tsc_hz, unc_ppb, kept, rejected,
 * min_width, max_width, span_cycles and gap_max (and for CS_WIDTH_FIT
 * width_beta and width_unc_ppb); tsc_hz saturates at UINT64_MAX.
 */
void cal_estimate(struct cal_result *r, const struct cal_sample *s, u64 n);

#endif

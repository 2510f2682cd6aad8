/*
 * Calibrating the TSC against every other clocksource at once.
 *
 * During one window every reference is read round-robin, each read
 * bracketed by two ordered TSC reads. Samples are kept at a steady pace
 * (at most CAL_MAX_SAMPLES per reference) and those whose bracket is
 * within 2x the narrowest are used (for an event source, the polling gap
 * its event fell in: wide when the host kept us away then). Narrow
 * counters are extended with the TSC as a hint, so that a read more than
 * half a wrap after the last one still counts every wrap. The rate is the two-group estimate
 * (mean of the second half against mean of the first half; as good as a
 * least-squares fit for evenly spread samples, and exact in 64-bit
 * integers), refitted once without outliers (beyond 5 robust standard
 * deviations). Its 1-sigma uncertainty comes from the scatter of the
 * samples about the fitted line. Because every reference spans the same window,
 * the results also give the drift between every pair.
 */
#ifndef MEASURE_CALIBRATE_H
#define MEASURE_CALIBRATE_H

#include "tick/clocksource.h"

#define CAL_MAX_SAMPLES	4096
#define CAL_MIN_SAMPLES	8

struct cal_result {
	struct clocksource *cs;
	int status;		/* 0, or -EIO when too few usable samples */
	u64 tsc_hz;		/* TSC rate measured against cs */
	u64 unc_ppb;		/* 1-sigma statistical uncertainty, ppb */
	u64 samples, kept;	/* taken, and used in the fit */
	u64 wide;		/* dropped for a bracket (polling gap) too wide */
	u64 rejected;		/* dropped as outliers by the robust refit */
	u64 min_width, max_width;	/* bracket widths used, cycles */
	u64 span_cycles;	/* TSC time from first to last kept sample */
	u64 backwards;		/* steps back seen while reading */
	u64 wraps;
	u64 wraps_by_tsc;	/* of them, wraps only the TSC showed (reads more
				 * than half a wrap apart: the host kept us away) */
};

/*
 * Calibrates against each of refs[0..n) (n <= CS_MAX) over window_ns of
 * TSC time (by the current ruler). Fills out[0..n). Returns the number of
 * references with a usable result.
 */
int calibrate_tsc(struct clocksource *const *refs, int n, u64 window_ns, struct cal_result *out);

/*
 * The rule for the final TSC rate: among references that do not derive
 * from the TSC themselves (kvm-clock does), the usable result with the
 * smallest uncertainty. Returns its index in r[0..n), or -1 when none.
 */
int calibrate_choose(const struct cal_result *r, int n);

/* The boot-time calibration (set by calibrate_boot), for the report. */
struct cal_run {
	struct cal_result r[CS_MAX];
	int n;
	int chosen;		/* index into r, -1 when none */
	u64 window_ns;
	u64 early_hz;		/* the ruler before calibrating */
	const char *early_source;
};
/* Calibrates against every registered source except the TSC, sets the
 * ruler by the rule above, and keeps the result. */
void calibrate_boot(u64 window_ns);
const struct cal_run *calibrate_last(void);

#endif

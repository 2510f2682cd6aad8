/*
 * Calibrating the TSC against every other clocksource at once.
 *
 * During one window every reference is read round-robin, each read
 * bracketed by two ordered TSC reads. Samples are kept at a steady pace
 * (at most CAL_MAX_SAMPLES per reference) and fitted as calfit.h says.
 * Narrow counters are extended with the TSC as a hint, so that a read
 * more than half a wrap after the last one still counts every wrap;
 * an event source (the RTC's flag) is fitted by the lower envelope of its
 * sightings instead, which are only ever late (lib/fit.h). Because every
 * reference spans the same window, the results also give the drift
 * between every pair.
 */
#ifndef MEASURE_CALIBRATE_H
#define MEASURE_CALIBRATE_H

#include "calfit.h"

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
/* A planted fault (boot/sources.c): the sightings of the next `windows`
 * event-source windows (-1: all) stretched by 8000 ppm, as a flag that
 * ran 0.8 % slow in them would leave. */
void calibrate_plant_events(int windows);
const struct cal_run *calibrate_last(void);

#endif

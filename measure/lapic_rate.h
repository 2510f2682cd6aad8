/*
 * The LAPIC timer's rate, measured as the TSC is calibrated: its current
 * count, run free at divide-by-16, is read as a counter through a window,
 * each read bracketed by two TSC reads, and fitted (measure/calibrate.c).
 * The driver's boot estimate (two reads 20 ms apart) carries the whole
 * cost of two reads into the rate; this does not.
 */
#ifndef MEASURE_LAPIC_RATE_H
#define MEASURE_LAPIC_RATE_H

#include "measure/calibrate.h"

struct lapic_rate {
	int status;		/* 0, -ENODEV (no LAPIC timer), -EIO (no fit) */
	u64 hz_milli;		/* timer ticks per ruler second at divide-by-16, mHz */
	u64 unc_ppb;		/* 1-sigma: the fit's and the ruler's, combined */
	u64 fit_unc_ppb;	/* the fit's alone */
	u64 guess_hz;		/* the boot estimate the fit started from */
	struct cal_result fit;	/* the TSC against the count, as fitted */
};

/*
 * Measures the BSP's LAPIC timer over window_ns and hands the result to
 * the driver (lapic_timer_set_hz). The "lapic" clockevents must be idle.
 * Returns the status also kept in lapic_rate_last().
 */
int lapic_rate_measure(u64 window_ns);
const struct lapic_rate *lapic_rate_last(void);

#endif

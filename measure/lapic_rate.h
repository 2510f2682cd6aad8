/*
 * The LAPIC timer's rate, measured around the TSC calibration: its
 * current count, run free at divide-by-16, is read as a counter in two
 * bursts, one just before the calibration window and one just after it,
 * each read bracketed by two TSC reads, and the bursts fitted as one
 * series (measure/calfit.h). The driver's boot estimate (two reads 4 ms
 * apart) carries the whole cost of two reads into the rate; this does not.
 *
 * Why two bursts: a slope is known best from samples at the two ends of
 * its span. The two-group fit's uncertainty is the scatter's times
 * sqrt(4/n), over the distance between its groups' mean times: n reads
 * spread evenly over a 100 ms window put the groups 50 ms apart; two
 * bursts around the 100 ms calibration put them about 110 ms apart, so a
 * fifth as many reads give the same uncertainty. Between the bursts
 * nothing reads the LAPIC: the calibration's references keep every
 * sample (a LAPIC read in its round-robin took a seventh of each
 * reference's samples under KVM). The burst's loop is a bracketed read
 * and a store, no division: under kvm_pvm, where ring-0 instructions
 * are partly interpreted, it reads 15-20 times a millisecond, against 6
 * for the calibration's own loop with one reference.
 *
 * Reading on in the second burst past the first's count of reads helps
 * only where the second burst's scatter, not the first's, bounds the
 * fit: the aim is checked there anyway, up to the bound.
 */
#ifndef MEASURE_LAPIC_RATE_H
#define MEASURE_LAPIC_RATE_H

#include "measure/calibrate.h"

struct lapic_rate {
	int status;		/* 0, -ENODEV (no LAPIC timer), -EIO (no fit) */
	u64 hz_milli;		/* timer ticks per ruler second at divide-by-16, mHz */
	u64 unc_ppb;		/* 1-sigma: the fit's and the ruler's, combined */
	u64 fit_unc_ppb;	/* the fit's alone */
	u64 guess_hz;		/* the first burst's own estimate, the fit's nominal */
	/* The bursts: reads kept in each, and the time each read for
	 * (the second's as sized), ns; the reading time allowed in all. */
	u64 burst_n[2], burst_ns[2], bound_ns;
	/* The aim the second burst was sized by (0: not sized: thorough or
	 * cal_ms= asks for the whole bound), and whether it stopped because
	 * 3 x the fit's uncertainty was within it; the span from the first
	 * read to the last, ns. */
	u64 aim_ppb;
	bool met;
	u64 span_ns;
	struct cal_result fit;	/* the TSC against the count, as fitted */
};

/*
 * Starts the BSP's LAPIC timer free-running and reads it for burst_ns (the
 * first burst). Returns 0, or -ENODEV when there is no LAPIC (or its timer
 * does not count). The "lapic" clockevents must not run until
 * lapic_rate_finish; nothing else may program the LAPIC timer meanwhile.
 */
int lapic_rate_begin(u64 burst_ns);

/*
 * Reads the second burst, at least as long as the first and with at least
 * as many reads, then (aim_ppb > 0) until 3 x the fit's uncertainty is
 * within aim_ppb, or both bursts together have read for bound_ns; fits
 * both, stops the timer. Returns the status also kept in lapic_rate_last()
 * (the rate itself, hz_milli, is by the ruler as it stands now).
 */
int lapic_rate_finish(u64 bound_ns, u64 aim_ppb);
const struct lapic_rate *lapic_rate_last(void);
/* A planted fault (boot/sources.c): every read of the count kept ppm
 * short of what it counted since the first burst began, as a timer that
 * ran that much slow would leave (lapic.calibration must FAIL). */
void lapic_rate_plant(u64 ppm);

#endif

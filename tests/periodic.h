/*
 * Judging periodic rates (clockevents, jiffies, IRQ0): event timestamps
 * placed on the device's grid (lost, extra and bunched events), fitted by
 * their lower envelope (lib/fit.h), and compared with what the device was
 * programmed for on its measured counter frequency (HPET, PIT, LAPIC) or
 * its nominal rate (RTC). The tolerance is three times the combined
 * uncertainty of the fit and of that expectation, plus the cited figures
 * the expectation rests on; never the spread of the samples about the
 * expected rate, which grows with the very error it should catch.
 */
#ifndef TESTS_PERIODIC_H
#define TESTS_PERIODIC_H

#include "sources.h"
#include "lib/fit.h"
#include "lib/stats.h"
#include "tick/clockevent.h"

#define PERIODIC_MAX	8192	/* timestamps one fit takes */

/* Events on the device's grid, fitted. */
struct periodic_fit {
	int status;		/* 0, or -EINVAL: too few events to fit */
	u64 n;			/* events */
	u64 k_first, k_last;	/* their ticks on the grid */
	u64 t_ref;		/* TSC of tick 0 of the grid (k given: the first event) */
	s64 lost, extra, bunched;
	u64 span;		/* TSC cycles from the first event to the last */
	struct envelope env;
	u64 rate_uhz;		/* events per ruler second, uHz */
	u64 unc_ppb;		/* the fit's 1-sigma: the floor's flatness, at
				 * least the resolution of two timestamps, the
				 * median lateness over the span and trend_ppb */
	u64 trend_ppb;		/* the delays' trend against the floor */
	u64 stamp_cycles;	/* what one timestamp costs (back-to-back TSC reads) */
	struct summary late;	/* ns above the envelope: delivery beyond the floor */
	bool ambiguous;		/* an interrupt half a period late or more, on the
				 * grid or above the line: numbering by time is
				 * ambiguous */
};

/* An event up to this fraction of a period before its grid point (the
 * grid's period a few ppm off the device's: 0.4 us over the PIT's 128 ms
 * under icount) is placed at that point. Kept small: an event late by a
 * period less this is placed a cell on, and the window's last one so
 * placed leaves its own cell empty (3.9 us at 250 Hz). */
#define PLACE_SLACK_DIV	1024

/* The grid cell of an event at TSC t, on the grid from t_ref (t >= t_ref). */
static inline u64 periodic_cell(u64 t, u64 t_ref, u64 period)
{
	return (t - t_ref + period / PLACE_SLACK_DIV) / period;
}

/*
 * Places n increasing TSC stamps on a grid of `period` cycles (tick k of
 * an event: floor((t - t_ref) / period), t_ref the least-late event's
 * grid origin; a repeated k is an extra event, a missing one lost, a pair
 * sharing a cell after an empty one bunched) and fits the first event of
 * each tick. k[] gives the ticks instead when the caller counts them
 * (jiffies); then period only sets the lateness grid. n <= PERIODIC_MAX.
 */
void periodic_fit(const u64 *stamps, const u64 *k, u64 n, u64 period, struct periodic_fit *f);
/*
 * Charges f, fitted by the last periodic_fit, with the bulk of the delays
 * moving against the floor over the window (lib/fit.h envelope_trend_ppb,
 * as tick.periodic charges it): the floor under it may have moved as far.
 * For a window no witness watched the emulator in (the RTC's own: a
 * loaded TCG host, one load boot, delivered the RTC's last events later
 * than its first, and rtc.periodic read -160 ppm against a stated 41, the
 * median lateness over the span). A rate error or a constant delay adds
 * nothing, and under icount nothing is late: 0. Not where the numbering
 * is ambiguous: that term is already a period over the span.
 */
void periodic_fit_trend(struct periodic_fit *f);

/* What a periodic rate should be, in events per ruler second. */
struct rate_expect {
	u64 uhz;		/* uHz by the ruler */
	u64 unc_ppb;		/* 1-sigma of that */
	u64 spec_ppb;		/* cited allowance on top */
	char basis[160];	/* what it rests on, for the report */
};

/*
 * The rate ce was programmed for (period_ticks of its freq_hz): on its
 * counter's frequency as calibrated against the TSC where it has one
 * (HPET, PIT; the LAPIC timer's own fit), so that the ruler cancels; else
 * on its nominal frequency, by the known TSC rate when tsc_hz= gives it,
 * else by the ruler, with the reference's cited allowance.
 */
void periodic_expect(struct test_env *env, const struct clockevent *ce, struct rate_expect *x);

/*
 * Prints the rate as rate_name (by the known TSC rate when given, else by
 * the ruler) and its error against x as err_name, with the tolerance and
 * what it is made of; returns PASS or FAIL.
 */
enum verdict periodic_judge(struct test_env *env, const char *rate_name, const char *err_name,
			    const struct periodic_fit *f, const struct rate_expect *x);

/* A periodic test's window: periodic_ms= when given, else 1 s with
 * thorough, else def_ms. */
u64 periodic_window_ns(struct test_env *env, u64 def_ms);

/*
 * The plant_rate=PPM self-test: stretches stamps[0..n) about the first so
 * that the events look PPM slower than they came (a device off its rate),
 * and says so. Every rate check must then FAIL. Does nothing without it.
 */
void plant_rate(struct test_env *env, u64 *stamps, u64 n);

#endif

/*
 * Tests every clockevent through the clockevent interface: oneshot
 * latency polling and halted (never early, never lost; tests/oneshot.c)
 * and the periodic rate, lost ticks and jitter, all timed by the
 * calibrated TSC. A test here must not program a device except through
 * that interface.
 */
#include "sources.h"
#include "arch-x86/cpu.h"
#include "arch-x86/delay.h"
#include "lib/stats.h"
#include "tick/clockevent.h"
#include "drivers/lapic_timer.h"
#include "oneshot.h"

#define PERIODIC_HZ		250	/* the default HZ */
/* The RTC only has powers of two. Its emulation runs on QEMU's main-loop
 * timers, which were seen to drop one 256 Hz period in 50 under TCG;
 * 64 Hz leaves 15 ms between ticks. */
#define RTC_TEST_HZ		64
#define PERIODIC_WINDOW_NS	200000000ul
#define PERIODIC_MAX		2048

static u64 stamps[PERIODIC_MAX];
static volatile u64 nstamps;

enum verdict ce_or_verdict(const char *name, u32 features, struct clockevent **out)
{
	*out = clockevent_find(name);
	if (*out && ((*out)->features & features) == features)
		return PASS;
	if (*out)
		return skip("%s has no %s mode", name, features & CE_ONESHOT ? "oneshot" : "periodic");
	return absent_verdict(name);
}

static void stamp(struct clockevent *ce)
{
	if (nstamps < PERIODIC_MAX)
		stamps[nstamps++] = ce->irq_tsc;
}

struct periodic_result {
	bool refused;
	u64 n, span, k_first, k_last, maxdev, rate_mhz, tol_ppb, discarded;
	s64 lost, extra, bunched;
	struct steal stolen;
	struct summary late;
};

/*
 * Places the r->n interrupts in stamps[] on the device's grid of period P.
 * Interrupts are only ever late, so the least late one (smallest
 * t_i - i P) fixes the grid, and tick k_i = floor((t_i - t_ref) / P) as
 * long as no interrupt is later than one period. Repeated k are extra
 * ticks, missing k lost ones; the lateness on the grid is the jitter.
 */
static void place_on_grid(struct periodic_result *r, u64 period)
{
	static u64 dev[PERIODIC_MAX];
	u64 t_ref, distinct = 0, n = r->n;

	t_ref = stamps[0];
	for (u64 i = 1; i < n; i++)
		t_ref = MIN(t_ref, stamps[i] - i * period);
	for (u64 i = 0, prev_k = 0; i < n; i++) {
		u64 k = (stamps[i] - t_ref) / period;

		if (i && k == prev_k)
			r->extra++;
		else
			distinct++;
		prev_k = k;
		dev[i] = tsc_to_ns(stamps[i] - t_ref - k * period);
		r->maxdev = MAX(r->maxdev, dev[i]);
		r->k_last = k;
		if (i == 0)
			r->k_first = k;
	}
	r->span = stamps[n - 1] - stamps[0];
	/* A tick more than a period late shares a cell with the next one
	 * and leaves its own empty: that pair is bunching (delivered late),
	 * not loss. Lost is what is missing overall. */
	r->bunched = MIN((s64)(r->k_last - r->k_first + 1) - (s64)distinct, r->extra);
	r->extra -= r->bunched;
	r->lost = (s64)(r->k_last - r->k_first + 1) - (s64)n;
	r->rate_mhz = mul_div_u64((r->k_last - r->k_first) * 1000, tsc_hz(), r->span);
	/* Each end of the span is late by up to the largest lateness, so the
	 * rate can be off by that over the span; plus 50 ppm, the accuracy
	 * the TSC ruler is held to from a 100 ms calibration (a device is not
	 * judged more finely than the ruler that times it). */
	r->tol_ppb = mul_div_u64(r->maxdev, 1000000000ull, tsc_to_ns(r->span)) + 50000;
	summarize(dev, (size_t)n, &r->late);
}

/* One window of periodic interrupts at hz, placed on the device's grid. */
static void periodic_window(struct clockevent *ce, u64 hz, struct periodic_result *r)
{
	u64 first = 0, period, start, n;

	*r = (struct periodic_result){ 0 };
	if (ce->features & CE_PERCPU)
		watchdog_pause();
	nstamps = 0;
	ce->handler = stamp;
	start = rdtsc_ordered();
	if (ce->set_periodic(ce, hz)) {
		ce->handler = NULL;
		if (ce->features & CE_PERCPU)
			watchdog_resume();
		r->refused = true;
		return;
	}
	period = mul_div_u64(tsc_hz(), 1000, ce->period_mhz);
	tsc_wait_steal(rdtsc_ordered() + ns_to_tsc(PERIODIC_WINDOW_NS), period, &r->stolen);
	ce->handler = NULL;	/* what shutting down may raise is not a tick */
	ce->shutdown(ce);
	if (ce->features & CE_PERCPU)
		watchdog_resume();
	n = nstamps;
	/* An edge left pending in an emulated IOAPIC while the input was
	 * masked (or a tick KVM's PIT held back to reinject) is delivered when
	 * the input is unmasked. Every device here starts counting when it is
	 * programmed, so its first tick cannot come before a whole period:
	 * anything before three quarters of one is not ours. */
	while (first < n && stamps[first] < start + period * 3 / 4)
		first++;
	r->discarded = first;
	n -= first;
	for (u64 i = 0; i < n; i++)
		stamps[i] = stamps[i + first];
	r->n = n;
	if (n >= 3)
		place_on_grid(r, period);
}

/* Lost (beyond the periods the CPU did not run: those coalesce, the
 * host's doing) or extra ticks. */
static bool bad_count(const struct periodic_result *r)
{
	return r->lost > (s64)r->stolen.periods || r->extra;
}

static enum verdict ce_periodic(const char *name)
{
	struct clockevent *ce;
	enum verdict v = ce_or_verdict(name, CE_PERIODIC, &ce);
	u64 hz = !__builtin_strcmp(name, "rtc") ? RTC_TEST_HZ : PERIODIC_HZ;
	struct periodic_result r;
	bool retried = false;
	char m[64];

	if (v != PASS)
		return v;
	periodic_window(ce, hz, &r);
	/* Like Linux's clocksource watchdog, which reads again before it
	 * blames a clock: a device that loses ticks loses them again, while
	 * an emulator's main loop held up once does not. */
	if (!r.refused && r.n >= 3 && bad_count(&r)) {
		diag("first window: %ld lost, %ld extra in %lu us (%lu periods not run); measuring "
		     "again", r.lost, r.extra, tsc_to_ns(r.span) / 1000, r.stolen.periods);
		periodic_window(ce, hz, &r);
		retried = true;
	}
	if (r.refused)
		return error("%s refused a periodic rate of %lu Hz", name, hz);
	if (r.discarded)
		diag("discarded %lu stale interrupt(s) from before the first period", r.discarded);
	diag("%s: %s; programmed %lu.%03lu Hz for %lu ms", name, ce->route, ce->period_mhz / 1000,
	     ce->period_mhz % 1000, PERIODIC_WINDOW_NS / 1000000);
	if (r.n < 3)
		return fail("only %lu periodic interrupts in %lu ms at %lu Hz", r.n,
			    PERIODIC_WINDOW_NS / 1000000, hz);
	snprintf_(m, sizeof(m), "%s.periodic.lost", name);
	measure_x(m, r.lost, 0, NULL, "%lu interrupts over %lu us, ticks %lu..%lu of the grid%s",
		  r.n, tsc_to_ns(r.span) / 1000, r.k_first, r.k_last,
		  retried ? "; second window" : "");
	snprintf_(m, sizeof(m), "%s.periodic.extra", name);
	measure_x(m, r.extra, 0, NULL, "more interrupts than ticks");
	snprintf_(m, sizeof(m), "%s.periodic.bunched", name);
	measure_x(m, r.bunched, 0, NULL, "ticks delivered more than a period late, then the next "
		  "at once");
	snprintf_(m, sizeof(m), "%s.periodic.lateness_ns", name);
	measure_percentiles(m, &r.late, "ns");
	snprintf_(m, sizeof(m), "%s.periodic.stolen_ms", name);
	measure_x(m, (s64)(tsc_to_ns(r.stolen.cycles) / 1000000), 0, "ms", "%lu gaps of a period "
		  "or more when this CPU did not run, %lu periods inside them", r.stolen.gaps,
		  r.stolen.periods);
	summary_note("periodic %lu Hz, lost %ld, bunched %ld", hz, r.lost, r.bunched);
	snprintf_(m, sizeof(m), "%s.periodic.rate_hz", name);
	v = check_within(m, (s64)r.rate_mhz, (s64)ce->period_mhz,
			 (s64)mul_div_u64(ce->period_mhz, r.tol_ppb, 1000000000ull), 3, "Hz");
	if (bad_count(&r))
		v = verdict_merge(v, fail("%ld ticks lost (%lu inside time the CPU did not run) and "
					  "%ld extra in %lu us%s", r.lost, r.stolen.periods, r.extra,
					  tsc_to_ns(r.span) / 1000,
					  retried ? ", in two windows running" : ""));
	return v;
}

TEST(pit, oneshot) { return ce_oneshot("pit", env); }
TEST(pit, periodic) { return ce_periodic("pit"); }
TEST(hpet, oneshot) { return ce_oneshot("hpet", env); }
TEST(hpet, periodic) { return ce_periodic("hpet"); }
TEST(rtc, periodic) { return ce_periodic("rtc"); }
TEST(lapic, oneshot) { return ce_oneshot("lapic", env); }
TEST(lapic, periodic) { return ce_periodic("lapic"); }
TEST(tscdeadline, oneshot) { return ce_oneshot("tscdeadline", env); }

TEST(lapic, calibration)
{
	struct clockevent *ce;
	enum verdict v = ce_or_verdict("lapic", 0, &ce);
	const struct lapic_timer_info *li = lapic_timer_info();

	if (v != PASS)
		return v;
	measure_x("lapic.freq_hz.measured", (s64)li->measured_hz, 0, "Hz", "divide by 16, against "
		  "the TSC over %u ms", LAPIC_CAL_US / 1000);
	measure("lapic.freq_hz", (s64)li->freq_hz, 0, "Hz");
	if (!li->claimed_hz)
		return PASS;
	/* Linux accepts a LAPIC calibration within 1 % of its cross-check. */
	diag("claim from %s: %lu Hz", li->claim_source, li->claimed_hz);
	return check_within("lapic.claim_err_ppm", ppb_diff(li->measured_hz, li->claimed_hz), 0,
			    10000000, 3, "ppm");
}

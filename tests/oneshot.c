/* Oneshot latency of a clockevent, waiting polled and halted, with the
 * histogram, the explanation of the difference and the verdict. It must
 * program devices only through the clockevent interface, and bound every
 * wait (a halted one by a second device's oneshot). */
#include "oneshot.h"
#include "sources.h"
#include "arch-x86/cpu.h"
#include "arch-x86/delay.h"
#include "lib/stats.h"
#include "event_wait.h"

/* Oneshot latency is measured in two waiting modes: polling the TSC and
 * halted (STI;HLT). Each runs until it has its samples or its time is up:
 * by default ONESHOT_DEFAULT or ONESHOT_BUDGET_NS (TCG gets the samples,
 * a slow KVM the time), with `thorough` ONESHOT_THOROUGH (1000 and more
 * make a p99 that is not just the largest few) or ONESHOT_THOROUGH_NS:
 * 1024 take ~3 s on this KVM when the host is idle, 6.6 s at load 10; a
 * polled series of the HPET or PIT must end within the watchdog's 20 s. */
#define ONESHOT_MAX		1024	/* samples kept per waiting mode */
#define ONESHOT_DEFAULT		256
#define ONESHOT_BUDGET_NS	250000000ul
#define ONESHOT_THOROUGH	ONESHOT_MAX
#define ONESHOT_THOROUGH_NS	12000000000ul
/* An event not come this long after it was due is lost. Emulators run
 * device timers in a thread of their own, which a busy host was seen to
 * hold up for 250 ms (TCG, load 8 on 2 cores): late, and reported as
 * such, but not lost. */
#define ONESHOT_WAIT_NS		1000000000ul	/* beyond the delta: 1 s */
/* oneshot_plant=early makes one event per waiting mode seem this early. */
#define ONESHOT_PLANT_NS	100000000ul
#define DRAIN_NS		2000000ul	/* for a missed (-ETIME) event */
/* log2 buckets from 1 ns to 2^34 ns (17 s, past the watchdog), so that a
 * latency up to the loss bound and beyond lands in a bucket of its own. */
#define HIST_BUCKETS		34

static u64 lat_ns[2][ONESHOT_MAX];
static u64 poll_step_ns[ONESHOT_MAX];

static void print_histogram(const char *name, const u64 *v, int n)
{
	int counts[HIST_BUCKETS] = { 0 };
	char line[400];
	int len = 0;

	for (int i = 0; i < n; i++) {
		int b = 0;

		while (b < HIST_BUCKETS - 1 && v[i] >= (2ul << b))
			b++;
		counts[b]++;
	}
	len = snprintf_(line, sizeof(line), "histogram %s (ns, log2 buckets):", name);
	for (int b = 0; b < HIST_BUCKETS && len < (int)sizeof(line) - 30; b++)
		if (counts[b])
			len += snprintf_(line + len, sizeof(line) - (size_t)len, " [%lu,%lu):%d",
					 b ? 1ul << b : 0, 2ul << b, counts[b]);
	diag("%s", line);
}

enum wait_mode { WAIT_POLL, WAIT_HALT };
static const char *const mode_name[] = { "poll", "halt" };

/* A fault planted by oneshot_plant=, once per waiting mode. */
enum plant { PLANT_NONE, PLANT_EARLY, PLANT_LOST };

/* Events programmed and not seen, which may still be on their way: a
 * missed one (-ETIME) not seen within DRAIN_NS, or one given up as lost.
 * The device is stopped then; what is already raised can still arrive,
 * and is expected until TSC `until` (ONESHOT_WAIT_NS after the last). */
struct outstanding {
	int n;
	u64 until;
};

/* What one waiting mode's series of oneshot events came to; latencies are
 * in lat_ns[mode][0..n), poll steps in poll_step_ns[0..nstep) (poll). */
struct oneshot_counts {
	enum wait_mode mode;
	enum plant plant;	/* oneshot_plant=: to plant in this series, once */
	int n, nstep, tries, early, missed, lost, fired, stale;
	struct outstanding *out;	/* shared by both modes */
	s64 worst_early;	/* cycles, negative */
	u64 others;		/* halt: HLTs ended by another interrupt */
	u64 ns;			/* how long the series took */
	struct summary lat, step;
};

/* Waits for the event just programmed (before: the count when it was) in
 * c's mode, bs bounding a halt. */
static bool wait_one(struct clockevent *ce, u64 before, struct clockevent *bs, u64 bs_before,
		     struct oneshot_counts *c)
{
	u64 end = ce->due_tsc + ns_to_tsc(ONESHOT_WAIT_NS);
	struct poll_stats ps = { 0, 0 };
	bool got;

	if (c->mode == WAIT_HALT)
		return halt_wait(ce, before, end, bs, bs_before, &c->others);
	got = wait_event(ce, before, end, &ps);
	/* A wait whose event came before its second poll timed no poll. */
	if (got && ps.polls > 1 && c->nstep < ONESHOT_MAX)
		poll_step_ns[c->nstep++] = tsc_to_ns(ps.cycles / (ps.polls - 1));
	return got;
}

/* How early an event may seem and still be on time: the uncertainty of its
 * due time and one device tick. */
static s64 early_limit(const struct clockevent *ce)
{
	return -(s64)(ce->due_unc + tsc_hz() / ce->freq_hz + 1);
}

/* An event that may still come: the device is stopped (so that it cannot
 * come during the next sample), and what is already raised expected for
 * ONESHOT_WAIT_NS more. */
static void expect_stale(struct clockevent *ce, struct outstanding *o)
{
	ce->shutdown(ce);
	o->n++;
	o->until = rdtsc_ordered() + ns_to_tsc(ONESHOT_WAIT_NS);
}

/*
 * Waits for the event just programmed and returns its lateness in cycles
 * (false when lost). An early event while an earlier one is outstanding
 * (the host was seen to hold a delivery for milliseconds) is taken as
 * that one, late: counted as stale, and the wait goes on for this one.
 * At most one per outstanding event, and only until it is expected no
 * more; never a planted one.
 */
static bool wait_lateness(struct clockevent *ce, u64 before, struct clockevent *bs,
			  u64 bs_before, bool planted, struct oneshot_counts *c, s64 *lat)
{
	struct outstanding *o = c->out;

	for (;;) {
		if (!wait_one(ce, before, bs, bs_before, c))
			return false;
		*lat = (s64)(ce->irq_tsc - ce->due_tsc);
		if (o->n && (s64)(ce->irq_tsc - o->until) > 0)
			o->n = 0;
		if (*lat >= early_limit(ce) || !o->n || planted)
			return true;
		o->n--;
		c->stale++;
		before = ce->events;
	}
}

/* One sample: program ticks, wait in c's mode, time the event against its
 * due time. A halted wait is bounded by bs, armed first (so that arming
 * it does not delay the event) and shut down after. */
static void oneshot_one(struct clockevent *ce, u64 ticks, u64 delta_ns, struct clockevent *bs,
			struct oneshot_counts *c)
{
	u64 before = ce->events, bs_before = bs ? bs->events : 0;
	s64 lat = 0;
	bool got, planted = false;

	c->tries++;
	if (c->mode == WAIT_HALT && bs && !arm_backstop(bs, delta_ns + ONESHOT_WAIT_NS + 1000000))
		bs = NULL;	/* the halted wait then polls */
	if (c->plant == PLANT_LOST) {
		/* Planted: an event the device never raises (not programmed). */
		c->plant = PLANT_NONE;
		ce->due_tsc = rdtsc_ordered() + ns_to_tsc(delta_ns);
		ce->due_unc = 0;
	} else if (ce->set_next_event(ce, ticks) == -ETIME) {
		/* Real HPETs then wait for the counter to wrap; QEMU's fires
		 * at once. Either way, wait a little so that it is not taken
		 * for the next event. */
		c->missed++;
		if (wait_event(ce, before, rdtsc_ordered() + ns_to_tsc(DRAIN_NS), NULL))
			c->fired++;
		else
			expect_stale(ce, c->out);
		if (bs)
			bs->shutdown(bs);
		return;
	} else if (c->plant == PLANT_EARLY) {
		/* Planted: an event that comes ONESHOT_PLANT_NS early. */
		c->plant = PLANT_NONE;
		planted = true;
		ce->due_tsc += ns_to_tsc(ONESHOT_PLANT_NS);
	}
	got = wait_lateness(ce, before, bs, bs_before, planted, c, &lat);
	if (bs)
		bs->shutdown(bs);
	if (!got) {
		c->lost++;
		expect_stale(ce, c->out);
		return;
	}
	/* Early: before the due time by more than we know it. */
	if (lat < early_limit(ce)) {
		c->early++;
		c->worst_early = MIN(c->worst_early, lat);
	}
	lat_ns[c->mode][c->n++] = lat > 0 ? tsc_to_ns((u64)lat) : 0;
}

/* Events at each of the four deltas in turn, until `want` samples or
 * budget_ns have passed, waiting in `mode`. */
static void oneshot_series(struct clockevent *ce, enum wait_mode mode, const u64 *deltas_ns,
			   int want, u64 budget_ns, struct clockevent *bs, enum plant plant,
			   struct outstanding *out, struct oneshot_counts *c)
{
	u64 start = rdtsc_ordered(), stop = start + ns_to_tsc(budget_ns);

	*c = (struct oneshot_counts){ .mode = mode, .plant = plant, .out = out };
	for (int i = 0; c->n < want && rdtsc_ordered() < stop; i++) {
		u64 d = deltas_ns[i % 4], t0 = rdtsc_ordered();
		bool planting = c->plant != PLANT_NONE;

		oneshot_one(ce, MAX(mul_div_u64(d, ce->freq_hz, 1000000000ull), ce->min_delta), d,
			    bs, c);
		if (planting && c->plant == PLANT_NONE)
			stop += rdtsc_ordered() - t0;	/* a planted sample is extra */
	}
	c->ns = tsc_to_ns(rdtsc_ordered() - start);
	summarize(lat_ns[mode], (size_t)c->n, &c->lat);
	if (mode == WAIT_POLL)
		summarize(poll_step_ns, (size_t)c->nstep, &c->step);
}

/* One mode's lines: the histogram, the count and the percentiles. */
static void report_mode(const char *name, const struct oneshot_counts *c)
{
	char m[64], h[48];

	snprintf_(h, sizeof(h), "oneshot %s latency", mode_name[c->mode]);
	print_histogram(h, lat_ns[c->mode], c->n);
	snprintf_(m, sizeof(m), "%s.oneshot.%s.samples", name, mode_name[c->mode]);
	measure_x(m, c->n, 0, NULL, "in %lu ms: %d programmed, %d missed, %d lost, %d early, "
		  "%d late ones of earlier samples", c->ns / 1000000, c->tries, c->missed, c->lost,
		  c->early, c->stale);
	snprintf_(m, sizeof(m), "%s.oneshot.%s.latency_ns", name, mode_name[c->mode]);
	measure_percentiles(m, &c->lat, "ns");
	if (c->mode == WAIT_POLL) {
		snprintf_(m, sizeof(m), "%s.oneshot.poll.step_ns", name);
		measure_x(m, (s64)c->step.p50, 0, "ns", "one poll (an ordered TSC read) while "
			  "waiting, median over the %d waits that polled; max %lu ns", c->nstep,
			  c->step.max);
	}
}

/*
 * Why the two modes differ, when they do by a factor of two or more (and
 * by more than four poll steps): polling, the CPU runs and takes the
 * interrupt between two TSC reads; halted, it must first be woken.
 */
static void explain_modes(const struct oneshot_counts *poll, const struct oneshot_counts *halt)
{
	u64 p = poll->lat.p50, h = halt->lat.p50, step = poll->step.p50;
	u64 hi = MAX(p, h), lo = MIN(p, h);

	if (!poll->n || !halt->n)
		return;
	if (hi < 2 * lo || hi - lo <= 4 * step) {
		diag("poll and halt within a factor of two: p50 %lu vs %lu ns (one poll %lu ns)", p,
		     h, step);
		return;
	}
	if (p > h)
		diag("polled latency is higher: p50 %lu vs %lu us halted. One poll (an ordered TSC "
		     "read) took %lu ns (p50; max %lu), so the polling granularity accounts for at "
		     "most that; the rest is how late the interrupt reaches a CPU that is running "
		     "(under a hypervisor that intercepts RDTSC, exiting on every read) compared "
		     "with one that is halted, whose wake-up the timer's expiry itself causes",
		     p / 1000, h / 1000, step, poll->step.max);
	else
		diag("halted latency is higher: p50 %lu vs %lu us polled (one poll %lu ns). A "
		     "halted CPU must be woken before it takes the interrupt: for a vCPU, the "
		     "host must schedule its thread again; on hardware, it leaves its C-state",
		     h / 1000, p / 1000, step);
}

static enum verdict oneshot_verdict(const struct oneshot_counts *c)
{
	if (c->lost)
		return fail("%s: %d of %d oneshot events never came (waited %lu ms past each)",
			    mode_name[c->mode], c->lost, c->tries, ONESHOT_WAIT_NS / 1000000);
	if (c->early)
		return fail("%s: %d events came early, the worst by %lu ns", mode_name[c->mode],
			    c->early, tsc_to_ns((u64)-c->worst_early));
	if (!c->n)
		return fail("%s: every programming attempt reported the event already passed",
			    mode_name[c->mode]);
	return PASS;
}

/* The lines of both modes, the totals and the summary note. */
static void report_all(const char *name, const struct clockevent *ce, const struct clockevent *bs,
		       const struct oneshot_counts *c, u64 min_ns, int want, u64 budget)
{
	char m[64];

	diag("%s: %s; deltas %lu (minimum) / 20000 / 100000 / 1000000 ns in turn, up to %d "
	     "samples or %lu ms per waiting mode; an event is lost %lu ms past due", name,
	     ce->route, min_ns, want, budget / 1000000, ONESHOT_WAIT_NS / 1000000);
	report_mode(name, &c[WAIT_POLL]);
	if (bs) {
		diag("halted waits: STI;HLT, the handler's first act reads the TSC; bounded by "
		     "%s's oneshot 1 ms past the loss bound; %lu HLTs ended by other interrupts",
		     bs->name, c[WAIT_HALT].others);
		report_mode(name, &c[WAIT_HALT]);
		explain_modes(&c[WAIT_POLL], &c[WAIT_HALT]);
	} else {
		diag("halted waits not measured: no second oneshot device on other hardware to "
		     "bound a HLT (only an interrupt ends one)");
	}
	snprintf_(m, sizeof(m), "%s.oneshot.missed", name);
	measure_x(m, c[0].missed + c[1].missed, 0, NULL, "programmed too close: the driver said "
		  "-ETIME; %d of them fired anyway", c[0].fired + c[1].fired);
	snprintf_(m, sizeof(m), "%s.oneshot.early", name);
	measure_x(m, c[0].early + c[1].early, 0, NULL, "expected 0 (poll %d, halt %d)", c[0].early,
		  c[1].early);
	if (bs)
		summary_note("oneshot p50 poll %lu us, halt %lu us", c[0].lat.p50 / 1000,
			     c[1].lat.p50 / 1000);
	else
		summary_note("oneshot p50 poll %lu us", c[0].lat.p50 / 1000);
}

/* What oneshot_plant= asks for (a bad value is a warning). */
static enum plant plant_of(struct test_env *env)
{
	const char *p = cmdline_get(env->cmd, "oneshot_plant");

	if (!p)
		return PLANT_NONE;
	if (!__builtin_strcmp(p, "early") || !__builtin_strcmp(p, "lost")) {
		diag("planted: one %s event per waiting mode (oneshot_plant=%s)", p, p);
		return p[0] == 'e' ? PLANT_EARLY : PLANT_LOST;
	}
	diag("warning: cmdline: oneshot_plant= takes early or lost; nothing planted");
	return PLANT_NONE;
}

/*
 * Oneshot latency of the clockevent named name, polling and halted, one
 * verdict for both: the device must never be early and never lose an
 * event in either mode. The waiting mode changes how late the interrupt
 * is taken, which is reported, not judged.
 */
enum verdict ce_oneshot(const char *name, struct test_env *env)
{
	struct clockevent *ce, *bs;
	enum verdict v = ce_or_verdict(name, CE_ONESHOT, &ce);
	u64 deltas_ns[4] = { 0, 20000, 100000, 1000000 };
	bool thorough = cmdline_has(env->cmd, "thorough");
	int want = thorough ? ONESHOT_THOROUGH : ONESHOT_DEFAULT;
	u64 budget = thorough ? ONESHOT_THOROUGH_NS : ONESHOT_BUDGET_NS;
	struct outstanding out = { 0, 0 };
	struct oneshot_counts c[2] = { { .mode = WAIT_POLL }, { .mode = WAIT_HALT } };
	enum plant plant;

	if (v != PASS)
		return v;
	plant = plant_of(env);
	bs = backstop_for(ce);
	/* The LAPIC timer is the watchdog's: paused while either is used. */
	if (ce->features & CE_PERCPU)
		watchdog_pause();
	deltas_ns[0] = mul_div_u64(ce->min_delta, 1000000000ull, ce->freq_hz) + 1;
	ce->handler = NULL;
	oneshot_series(ce, WAIT_POLL, deltas_ns, want, budget, NULL, plant, &out, &c[WAIT_POLL]);
	if (bs && (bs->features & CE_PERCPU))
		watchdog_pause();
	if (bs)
		oneshot_series(ce, WAIT_HALT, deltas_ns, want, budget, bs, plant, &out,
			       &c[WAIT_HALT]);
	ce->shutdown(ce);
	if ((ce->features | (bs ? bs->features : 0)) & CE_PERCPU)
		watchdog_resume();
	report_all(name, ce, bs, c, deltas_ns[0], want, budget);
	v = oneshot_verdict(&c[WAIT_POLL]);
	return bs ? verdict_merge(v, oneshot_verdict(&c[WAIT_HALT])) : v;
}

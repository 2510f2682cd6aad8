/*
 * The tick layer on real devices: jiffies at HZ, the periodic-to-oneshot
 * switch, software timers, NO_HZ idle, and wall time against the RTC.
 * Each test starts and stops its own tick, so that a failure cannot leak
 * into the next one.
 */
#include "sources.h"
#include "arch-x86/cpu.h"
#include "arch-x86/delay.h"
#include "drivers/rtc.h"
#include "lib/stats.h"
#include "tick/tick.h"

#define PERIODIC_NS	100000000ull	/* 100 ms of periodic tick */
#define ONESHOT_NS	100000000ull	/* 100 ms after the switch */
#define NTIMERS		64
#define TIMER_SPAN_MS	50
#define IDLE_PERIODIC_NS 200000000ull
#define IDLE_ONESHOT_NS	500000000ull

struct tick_setup {
	struct clockevent *ce;
	struct clocksource *cs;
	u64 hz;
	bool halt;		/* HLT is bounded by the watchdog */
};

/* Starts the periodic tick on the device (clockevent=, else the best
 * with the modes needed) with timekeeping on the clocksource
 * (clocksource=, else the best) at HZ. */
static u64 rtc_wall_ns(struct test_env *env)
{
	struct rtc_time rt;
	const char *why;

	return rtc_read(env->acpi, &rt, &why) ? 0 : rtc_to_unix(&rt) * 1000000000ull;
}

static enum verdict setup(struct test_env *env, struct tick_setup *t, bool need_oneshot)
{
	const char *ce = cmdline_get(env->cmd, "clockevent");
	const char *cs = cmdline_get(env->cmd, "clocksource");
	u32 want = CE_PERIODIC | (need_oneshot ? CE_ONESHOT : 0);

	/* Bad names and rates were warned about at boot; use the defaults. */
	t->ce = ce && clockevent_find(ce) ? clockevent_find(ce) : clockevent_best(want);
	t->cs = cs && clocksource_find(cs) ? clocksource_find(cs) : clocksource_best();
	t->hz = cmdline_u64(env->cmd, "hz", HZ_MIN, HZ_MAX, HZ_DEFAULT);
	if (!t->ce || (t->ce->features & want) != want)
		return skip("no clockevent with %s mode%s", need_oneshot ? "periodic and oneshot" :
			    "periodic", ce ? " (as clockevent= asked)" : "");
	if (!t->cs)
		return skip("no clocksource for timekeeping");
	t->halt = !(t->ce->features & CE_PERCPU);
	if (!t->halt)
		watchdog_pause();
	if (tick_start(t->ce, t->cs, t->hz, rtc_wall_ns(env))) {
		if (!t->halt)
			watchdog_resume();
		return error("%s refused a periodic tick at %lu Hz", t->ce->name, t->hz);
	}
	diag("tick on %s (%s) at %lu Hz (period %lu ns), timekeeping on %s", t->ce->name,
	     t->ce->route, t->hz, tick_period_ns(), t->cs->name);
	return PASS;
}


static void finish(struct tick_setup *t)
{
	tick_stop();
	if (!t->halt)
		watchdog_resume();
}

/* Busy-waits ns by the TSC (interrupts on). */
static void run_for(u64 ns)
{
	u64 end = rdtsc_ordered() + ns_to_tsc(ns);

	while (rdtsc_ordered() < end)
		cpu_relax();
}

/* jiffies and the TSC of the tick that made them, read together. */
static void snapshot(struct clockevent *ce, u64 *j, u64 *tsc)
{
	u64 f = irq_save();

	*j = tick_jiffies();
	*tsc = ce->irq_tsc;
	irq_restore(f);
}

/* One window of the periodic tick: jiffies and the TSC at two ticks. */
struct jiffy_window {
	u64 j0, t0, j1, t1;
	s64 lost;		/* jiffies due by the TSC but not counted */
	struct steal stolen;
};

static void jiffy_window(struct tick_setup *t, struct jiffy_window *w)
{
	snapshot(t->ce, &w->j0, &w->t0);
	tsc_wait_steal(rdtsc_ordered() + ns_to_tsc(PERIODIC_NS), ns_to_tsc(tick_period_ns()),
		       &w->stolen);
	snapshot(t->ce, &w->j1, &w->t1);
	w->lost = (s64)((tsc_to_ns(w->t1 - w->t0) + tick_period_ns() / 2) / tick_period_ns()) -
		  (s64)(w->j1 - w->j0);
}

/* One jiffy of slack for the window's ends, and the periods when the CPU
 * did not run (the periodic device's ticks coalesce then). */
static s64 jiffy_slack(const struct jiffy_window *w)
{
	return 1 + (s64)w->stolen.periods;
}

TEST(tick, periodic)
{
	struct tick_setup t;
	enum verdict v = setup(env, &t, false);
	struct jiffy_window w;
	s64 err;

	if (v != PASS)
		return v;
	run_for(tick_period_ns() * 2);
	jiffy_window(&t, &w);
	/* As Linux's watchdog rereads before it blames a clock: a tick that
	 * loses jiffies loses them again; a host hiccup does not repeat. */
	if (w.lost > jiffy_slack(&w) || w.lost < -jiffy_slack(&w)) {
		diag("first window: %ld jiffies lost in %lu us; measuring again", w.lost,
		     tsc_to_ns(w.t1 - w.t0) / 1000);
		jiffy_window(&t, &w);
	}
	finish(&t);
	if (w.j1 <= w.j0)
		return fail("jiffies did not advance in %llu ms (%lu -> %lu)", PERIODIC_NS / 1000000,
			    w.j0, w.j1);
	err = ppb_diff(mul_div_u64(w.j1 - w.j0, 1000000000ull * 1000000ull, t.hz),
		       tsc_to_ns(w.t1 - w.t0) * 1000000ull);
	measure_x("tick.jiffies_err_ppm", err, 3, "ppm", "%lu jiffies over %lu us at HZ=%lu, "
		  "against HZ itself", w.j1 - w.j0, tsc_to_ns(w.t1 - w.t0) / 1000, t.hz);
	if (w.stolen.periods)
		diag("%lu tick periods fell in %lu ms when this CPU did not run", w.stolen.periods,
		     tsc_to_ns(w.stolen.cycles) / 1000000);
	return check_within("tick.jiffies_lost", w.lost, 0, jiffy_slack(&w), 0, NULL);
}

TEST(tick, switch)
{
	struct tick_setup t;
	enum verdict v = setup(env, &t, true);
	u64 j0, t0, j1, t1, expect, f;
	s64 gap;
	int rc;

	if (v != PASS)
		return v;
	run_for(PERIODIC_NS / 2);
	/* The anchor is the last periodic tick before the switch, taken with
	 * interrupts off so that no tick comes in between: what the periodic
	 * device lost earlier is tick.periodic's business, continuity across
	 * the switch is this test's. */
	f = irq_save();
	snapshot(t.ce, &j0, &t0);
	rc = tick_switch_oneshot();
	irq_restore(f);
	if (rc) {
		finish(&t);
		return error("could not switch %s to oneshot mode", t.ce->name);
	}
	run_for(ONESHOT_NS);
	f = irq_save();
	j1 = tick_jiffies();
	t1 = rdtsc_ordered();
	irq_restore(f);
	finish(&t);
	/* Jiffies due between the anchor tick and now, by the TSC. */
	expect = tsc_to_ns(t1 - t0) / tick_period_ns();
	gap = (s64)(j1 - j0) - (s64)expect;
	diag("late programming %lu, back-offs %lu, catch-up jiffies %lu", tick_stats()->late,
	     tick_stats()->backoffs, tick_stats()->catchup);
	/* 1 jiffy of slack: the emulated tick may be in flight at t1. */
	return check_within("tick.switch.jiffies_gap", gap, 0, 1, 0, "jiffies");
}

struct probe {
	struct swtimer t;
	u64 fired_ns;
	int order;
};

static struct probe probes[NTIMERS];
static volatile int fired;

static void probe_fn(struct swtimer *t, u64 now)
{
	struct probe *p = t->ctx;

	p->fired_ns = now;
	p->order = fired++;
}

/* Queues every probe at base + a fixed pseudo-random spread over 50 ms,
 * with ties. Returns 0 or the queue's error. */
static int queue_probes(u64 base)
{
	u64 seed = 12345;

	for (int i = 0; i < NTIMERS; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		swtimer_init(&probes[i].t, probe_fn, &probes[i]);
		probes[i].t.expires = base + (seed >> 33) % TIMER_SPAN_MS * 1000000ull;
		probes[i].fired_ns = 0;
		if (tick_add_timer(&probes[i].t))
			return -ERANGE;
	}
	return 0;
}

/* The lateness of every probe that fired, into late[] (returns how many),
 * and the pairs that fired out of expiry order. */
static int probe_lateness(u64 queued, u64 *late, int *out_of_order)
{
	int n = 0;

	*out_of_order = 0;
	for (int i = 0; i < NTIMERS; i++) {
		if (!probes[i].fired_ns)
			continue;
		/* Late from when it was due, or from when it was queued, if
		 * queueing them all took longer than that. */
		late[n++] = probes[i].fired_ns - MAX(probes[i].t.expires, queued);
		for (int j = 0; j < NTIMERS; j++)
			if (probes[j].fired_ns && probes[j].t.expires < probes[i].t.expires &&
			    probes[j].order > probes[i].order)
				(*out_of_order)++;
	}
	return n;
}

TEST(tick, timers)
{
	struct tick_setup t;
	enum verdict v = setup(env, &t, true);
	static u64 late[NTIMERS];
	u64 base, end, queued, queue_cost;
	int out_of_order, n;
	struct summary s;

	if (v != PASS)
		return v;
	run_for(tick_period_ns() * 2);
	if (tick_switch_oneshot()) {
		finish(&t);
		return error("could not switch %s to oneshot mode", t.ce->name);
	}
	/* Where instructions are emulated, queueing 64 timers takes longer
	 * than a millisecond, and a timer due while the rest are queued runs
	 * at once. So queue them once far in the future to learn how long it
	 * takes, and then for real, starting after twice that. */
	fired = 0;
	base = tick_now_ns() + 1000000000ull;
	queue_cost = tick_now_ns();
	if (queue_probes(base)) {
		finish(&t);
		return error("the timer queue refused %d timers", NTIMERS);
	}
	queue_cost = tick_now_ns() - queue_cost;
	for (int i = 0; i < NTIMERS; i++)
		tick_del_timer(&probes[i].t);
	base = tick_now_ns() + 2 * queue_cost + 1000000;
	queue_probes(base);
	queued = tick_now_ns();
	diag("queueing %d timers took %lu us", NTIMERS, queue_cost / 1000);
	end = rdtsc_ordered() + ns_to_tsc((TIMER_SPAN_MS + 100) * 1000000ull);
	while (fired < NTIMERS && rdtsc_ordered() < end)
		cpu_relax();
	for (int i = 0; i < NTIMERS; i++)
		tick_del_timer(&probes[i].t);
	finish(&t);
	n = probe_lateness(queued, late, &out_of_order);
	summarize(late, (size_t)n, &s);
	measure_percentiles("tick.timer.lateness_ns", &s, "ns");
	diag("limit for p99: %lu ns, two tick periods: the periodic tick oneshot mode replaces "
	     "runs a timer within a period, and is itself allowed up to a period late before a "
	     "tick counts as lost", 2 * tick_period_ns());
	if (n < NTIMERS)
		return fail("%d of %d timers never fired within %d ms", NTIMERS - n, NTIMERS,
			    TIMER_SPAN_MS + 100);
	if (out_of_order)
		return fail("%d pairs of timers fired out of expiry order", out_of_order);
	/* p99, not max: one interrupt held up by the host is not the tick
	 * layer's doing. */
	if (s.p99 > 2 * tick_period_ns())
		return fail("timers fired up to %lu ns late (p99), more than two tick periods "
			    "(%lu ns)", s.p99, 2 * tick_period_ns());
	return PASS;
}

TEST(tick, idle)
{
	struct tick_setup t;
	enum verdict v = setup(env, &t, true);
	u64 e0, per_s_periodic, per_s_oneshot, n_oneshot, allowed, stretch_ns;

	if (v != PASS)
		return v;
	e0 = t.ce->events;
	tick_idle_until(tick_now_ns() + IDLE_PERIODIC_NS, t.halt);
	per_s_periodic = (t.ce->events - e0) * 1000000000ull / IDLE_PERIODIC_NS;
	if (tick_switch_oneshot()) {
		finish(&t);
		return error("could not switch %s to oneshot mode", t.ce->name);
	}
	/* 10 ms of idle first: an interrupt already raised when the tick
	 * stopped arrives then, not in the measured window. */
	tick_idle_until(tick_now_ns() + 10000000, t.halt);
	e0 = t.ce->events;
	tick_idle_until(tick_now_ns() + IDLE_ONESHOT_NS, t.halt);
	n_oneshot = t.ce->events - e0;
	per_s_oneshot = n_oneshot * 1000000000ull / IDLE_ONESHOT_NS;
	finish(&t);
	diag("idle with %s: %s", t.halt ? "HLT" : "PAUSE (the device under test is the watchdog's)",
	     t.ce->name);
	measure("tick.idle_irqs_per_s.periodic", (s64)per_s_periodic, 0, "irq/s");
	measure_x("tick.idle_irqs_per_s.oneshot", (s64)per_s_oneshot, 0, "irq/s",
		  "%lu interrupts in %llu ms of idle", n_oneshot, IDLE_ONESHOT_NS / 1000000);
	/* NO_HZ idle takes the wake-up alone, plus one per longest stretch
	 * it may sleep: the longest delta the device can be programmed for
	 * (the PIT's 16-bit counter reaches only 27 ms) or the clocksource's
	 * max_idle_ns (half its range: 24 ms for the PIT), whichever is
	 * shorter; plus the tick re-armed between the settling idle and this
	 * one if it fired in that instant. */
	stretch_ns = MIN(mul_div_u64(t.ce->max_delta, 1000000000ull, t.ce->freq_hz),
			 tick_max_idle_ns());
	allowed = IDLE_ONESHOT_NS / stretch_ns + 2;
	diag("longest idle stretch %lu us (the device's longest delta, or %s's max_idle_ns); "
	     "timekeeping folded in %lu times while idle", stretch_ns / 1000, t.cs->name,
	     tick_stats()->idle_updates);
	if (tick_stats()->idle_overruns)
		return fail("idle ran %llu ms past its end by the TSC: %s's time stalled while idle",
			    TICK_IDLE_BACKSTOP_NS / 1000000, t.cs->name);
	if (n_oneshot > allowed)
		return fail("%lu interrupts while idle in oneshot mode; NO_HZ idle needs at most %lu",
			    n_oneshot, allowed);
	return PASS;
}

TEST(tick, walltime)
{
	struct tick_setup t;
	enum verdict v = setup(env, &t, false);
	u64 rtc_now;
	s64 err_ms;

	if (v != PASS)
		return v;
	if (!tick_wall_ns()) {
		finish(&t);
		return skip("no RTC to seed wall time from");
	}
	run_for(PERIODIC_NS);
	err_ms = (s64)(tick_wall_ns() / 1000000);
	rtc_now = rtc_wall_ns(env);
	finish(&t);
	if (!rtc_now)
		return skip("the RTC could not be read at the end");
	err_ms -= (s64)(rtc_now / 1000000);
	/* Both readings of the RTC are whole seconds, taken anywhere within
	 * their second: they agree to within 1 s, not better. */
	return check_within("walltime.err_ms.rtc", err_ms, 0, 1000, 0, "ms");
}

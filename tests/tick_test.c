/*
 * The tick layer on real devices: jiffies at HZ, the periodic-to-oneshot
 * switch, software timers, NO_HZ idle, and wall time against the RTC.
 * Each test starts and stops its own tick, so that a failure cannot leak
 * into the next one.
 */
#include "jiffies_fit.h"
#include "tick_test.h"
#include "arch-x86/cpu.h"
#include "arch-x86/delay.h"
#include "drivers/rtc.h"
#include "lib/stats.h"
#include "tick/tick.h"

#define PERIODIC_NS	100000000ull	/* 100 ms of periodic tick */
#define SWITCH_TICKS	10	/* emulated ticks judged after the switch */
#define NTIMERS		64
#define TIMER_SPAN_MS	50
#define JIFFY_TRIES	3	/* windows at most, when the host spoils them (each
				 * lengthens itself up to JIFFY_MAX_NS of presence);
				 * the least spoiled is judged */
/* A window the host was away for most of does not count against
 * JIFFY_TRIES, up to this many in all (at most 2 s each): at load ~3-12
 * both TCG and KVM runs had their first two windows so spoiled and a
 * third that was not. */
#define JIFFY_TRIES_MAX	5
#define JIFFY_TOL_PPB	500000ull	/* tolerance tick.periodic's window aims for */
#define JIFFY_MAX_NS	1000000000ull	/* its hard bound, in this vCPU's presence */
/* Beyond this tolerance the host kept the check from measuring: not judged.
 * Half again the target, so that a tick 1000 ppm off (plant_rate=1000)
 * lies a third of the tolerance beyond it even at the limit (at 995 ppm
 * it would pass as often as not). */
#define JIFFY_JUDGE_PPB	(JIFFY_TOL_PPB * 3 / 2)

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

	while (rdtsc_ordered() < end) {
		test_poll(TEST_POLL_LOOP);
		cpu_relax();
	}
}

/* The host spoiled the window: no tick came, or it was away most of the
 * time, or no present stretch held enough ticks to fit; or jiffies were
 * lost while KVM counted more steal time than the gaps seen (by a tick):
 * the host was short of CPU for threads the guest cannot watch (KVM
 * injects its LAPIC timer's and PIT's interrupts from them). Ticks the
 * host coalesced do not spoil it: the rate is fitted where we ran. */
static s64 hidden_periods(const struct jiffy_window *w);

static bool jiffies_spoiled(const struct jiffy_window *w, const struct present_fit *p)
{
	if (w->j1 <= w->j0 || p->f.status || p->tol_ppb > JIFFY_JUDGE_PPB)
		return true;	/* no tick at all, or no fit (judged below) */
	/* The host away most of the time: what it excused says little (see
	 * mostly_away). Stamped by the count, such a window's ticks are still
	 * numbered and fitted exactly; only tick.jiffies_lost leans on the
	 * excuse, and one that lost no more than the single jiffy allowed
	 * without any needs none. (On kvm_pvm at host load ~4 poll steps of
	 * 4 ms and more made windows of 108 advances seen of 117 due, 0 lost,
	 * 384 ppm of tolerance, "mostly away": measured again, 1.2 s in all.) */
	if (mostly_away(w))
		return !(w->by_count && w->lost <= 1);
	return w->lost > jiffy_slack(w) && hidden_periods(w) > 0;
}

/*
 * The whole periods of KVM steal time in the window beyond the gaps this
 * vCPU saw: time the host left it ready but not run, in pieces it could
 * not place, while the threads that inject the LAPIC timer's and the
 * PIT's interrupts went short too. A tick lost then is the host's as much
 * as one due inside a gap seen: the lost count is not held against the
 * tick beyond them either. (A kvm-qboot soak run on a host at load ~16:
 * 385 lost against 249 excused, with 1762 ms of steal and 904 ms of gaps
 * in a 2530 ms window, the rate within 25 ppm: tick.periodic FAILed on
 * the count.) 0 where KVM offers no steal time (TCG).
 */
static s64 hidden_periods(const struct jiffy_window *w)
{
	u64 seen = tsc_to_ns(gaps_total(&w->w.cpu.absent));

	return w->w.cpu.steal_known && w->w.cpu.steal_ns > seen ?
	       (s64)((w->w.cpu.steal_ns - seen) / tick_period_ns()) : 0;
}

/* How badly the host spoiled a window: 0 not at all, 1 its fit's
 * tolerance beyond what may be judged (or loss with hidden steal), 2 the
 * host away for most of it, 3 no fit at all. */
static int spoil_rank(const struct jiffy_window *w, const struct present_fit *p)
{
	if (!jiffies_spoiled(w, p))
		return 0;
	if (w->j1 <= w->j0 || p->f.status)
		return 3;
	return mostly_away(w) ? 2 : 1;
}

/* What spoiled a window, for the report. */
static const char *spoil_why(const struct jiffy_window *w, const struct present_fit *p)
{
	if (w->j1 <= w->j0)
		return "no tick came";
	if (mostly_away(w))
		return "the host away for most of it";
	if (p->f.status)
		return "too few advances in stretches of presence to fit";
	if (p->tol_ppb > JIFFY_JUDGE_PPB)
		return "its tolerance beyond what may be judged";
	return "jiffies lost while KVM counted steal time beyond the gaps seen";
}

/* Window a (fitted as pa) is less spoiled than b: it ranks lower, or as
 * low with a tighter tolerance. Which window is judged never depends on
 * its rate, only on what the host left of it. */
static bool less_spoiled(const struct jiffy_window *a, const struct present_fit *pa,
			 const struct jiffy_window *b, const struct present_fit *pb)
{
	int ra = spoil_rank(a, pa), rb = spoil_rank(b, pb);

	return ra != rb ? ra < rb : pa->tol_ppb < pb->tol_ppb;
}

/* What the host's absences came to in the window judged. */
static void report_jiffy_absences(const struct jiffy_window *w, u64 tries)
{
	measure_x("tick.jiffies_remeasured", (s64)tries - 1, 0, NULL, "windows measured again "
		  "because the host's absences spoiled them (at most %d; %d when it was away for "
		  "most of them)", JIFFY_TRIES - 1, JIFFY_TRIES_MAX - 1);
	measure_x("tick.jiffies_excused", (s64)w->excused, 0, NULL, "ticks due while this vCPU "
		  "(%lu ms) or the emulator (%lu ms more) did not run; not fitted, and not held "
		  "against the tick", tsc_to_ns(w->w.cpu.cycles) / 1000000,
		  tsc_to_ns(watch_emulator_only(&w->w)) / 1000000);
}

/*
 * Jiffies against the TSC at the instants they advance, over the
 * stretches where this vCPU and the emulator ran (present_fit): the
 * tick's rate, held to the rate its device was programmed for on the
 * device's measured counter (tests/periodic.h). A count of jiffies over a
 * window is quantised to one jiffy (40000 ppm over 100 ms at 250 Hz) and
 * measures the window. The window lasts until the fit's uncertainty gives
 * a tolerance of at most JIFFY_TOL_PPB, within JIFFY_MAX_NS of presence.
 */
TEST(tick, periodic)
{
	struct tick_setup t;
	enum verdict v = setup(env, &t, false);
	u64 window_ns = periodic_window_ns(env, PERIODIC_NS / 1000000), tries = 0, away = 0, limit;
	static struct jiffy_window w, tw;
	static struct present_fit p, tp;
	struct rate_expect x;
	char a[24], b[24];

	if (v != PASS)
		return v;
	/*
	 * Under TCG on a loaded host the least-late ticks do not sit on one
	 * floor: the delivery delay steps between about 1 and 10 us and
	 * stays there for tens of ms (the host's scheduling of QEMU's
	 * threads, not the device), and the envelope tilts by the step over
	 * the part of the window after it. Over 26 ticks (100 ms at 250 Hz)
	 * the block floors did not show it: 146 ppm off against 54 stated,
	 * 19 of 1084 windows beyond 3 x the stated uncertainty (blocks of
	 * two instead of three: still 2 of 601); over 50 ticks none of 894,
	 * the worst 1.9 x (every clean window of that length in twenty 3 s
	 * tick.periodic runs, 16 on q35 -smp 3 and 4 on pc, each beside a
	 * load boot, against QEMU's exact rate). So the window holds at
	 * least 50 ticks: the periodic device tests' 200 ms at 250 Hz,
	 * 500 ms at HZ_MIN, periodic_ms= or not.
	 */
	window_ns = MAX(window_ns, FIT_MIN_TICKS * tick_period_ns());
	periodic_expect(env, t.ce, &x);
	/* tick.walltime is seeded and read in this run of the tick, which
	 * saves it one of its own (100 ms). */
	walltime_begin(env, &t);
	run_for(tick_period_ns() * 2);
	/* A window the host spoiled (no present stretch to fit, or too
	 * little of one) is measured again; the least spoiled is judged. On
	 * the software KVM here a loaded host delivered the tick's interrupts
	 * with a scatter of a period's fifth and more for seconds (median
	 * 0.70 and 0.84 ms above the floor, against 0.13-0.25 ms in 60
	 * windows judged at load 1), and two windows in a row came out that
	 * way: 5632 and 8790 ppm of tolerance. */
	do {
		if (tries++)
			steal_note_remeasured();
		away += tries > 1 && mostly_away(&tw);
		jiffy_window(t.ce, window_ns, MAX(window_ns, JIFFY_MAX_NS), JIFFY_TOL_PPB, &x, &tw);
		jiffy_fit(env, &tw, &x, &tp);
		/* Windows the host was away for most of do not count. */
		limit = MIN(JIFFY_TRIES + away + mostly_away(&tw), JIFFY_TRIES_MAX);
		if (jiffies_spoiled(&tw, &tp) && tries < limit)
			diag("window %lu (%lu ms, %lu advances, %lu fitted) spoiled by the host, measured "
			     "again: %s (tolerance %lu ppm; %ld lost, %lu excused; %lu ms away)", tries,
			     tw.window_ns / 1000000, tw.n, tp.f.status ? 0 : tp.f.n,
			     spoil_why(&tw, &tp), tp.tol_ppb == UINT64_MAX ? 0 : tp.tol_ppb / 1000,
			     tw.lost, tw.excused, tsc_to_ns(gaps_total(&tw.w.all)) / 1000000);
		if (tries == 1 || less_spoiled(&tw, &tp, &w, &p)) {
			w = tw;
			p = tp;
		}
	} while (jiffies_spoiled(&w, &p) && tries < limit);
	walltime_end();
	finish(&t);
	report_jiffy_absences(&w, tries);
	if (w.w.cpu.steal_known)
		diag("KVM counted steal time in the poll steps in which %lu of the %lu advances were "
		     "seen (%lu ms in those steps; %lu ms over the window, against %lu ms of gaps "
		     "seen): the host may have held those ticks up", w.stolen, w.n, w.stolen_ns / 1000000,
		     w.w.cpu.steal_ns / 1000000, tsc_to_ns(gaps_total(&w.w.cpu.absent)) / 1000000);
	if (w.j1 <= w.j0) {
		if (mostly_away(&w)) {
			steal_note_unjudged();
			return error("jiffies did not advance in %lu ms in %lu windows, the host "
				     "absent for most of each: cannot judge the tick",
				     w.window_ns / 1000000, tries);
		}
		return fail("jiffies did not advance in %lu ms (%lu -> %lu)", w.window_ns / 1000000,
			    w.j0, w.j1);
	}
	if (mostly_away(&w) && !jiffies_spoiled(&w, &p))
		diag("the host was away for most of the window judged: its ticks stamped by the "
		     "count fit as well, and it lost no more jiffies than allowed without any excused");
	if (w.lost > jiffy_slack(&w) && mostly_away(&w)) {
		steal_note_unjudged();
		return error("%ld jiffies lost, %lu excused, with the host away for most of the least "
			     "spoiled of %lu windows: cannot judge the tick", w.lost, w.excused, tries);
	}
	if (p.f.status) {
		/* Fewer than FIT_MIN_TICKS advances in stretches of presence
		 * in every window: the host's if it was away for most of the
		 * one judged, or its absences ended more steps than jiffies that
		 * disagreed with their time; else the tick's. */
		if (mostly_away(&w) || p.absences > p.disagree) {
			steal_note_unjudged();
			return error("only %lu of %lu jiffy advances in %lu ms lay in stretches of "
				     "presence (%lu steps crossed an absence, %lu ms away) in the least "
				     "spoiled of %lu windows: cannot judge the tick", p.f.n, w.n,
				     w.window_ns / 1000000, p.absences,
				     tsc_to_ns(w.w.cpu.cycles) / 1000000, tries);
		}
		return fail("only %lu of %lu jiffy advances in %lu ms could be fitted: %lu steps' "
			    "jiffies disagreed with their time (%ld lost, %lu excused)", p.f.n, w.n,
			    w.window_ns / 1000000, p.disagree, w.lost, w.excused);
	}

	diag("%lu jiffies over %lu us at HZ=%lu on %s, %lu advances seen; fitted %lu over %lu "
	     "stretches of presence, %lu left out as ending or held up by an absence (median "
	     "%lu ns above the floor; %lu stretches left out a quarter period off the line)",
	     w.j1 - w.j0, tsc_to_ns(w.t1 - w.t0) / 1000, t.hz, t.ce->name, w.n, p.f.n, p.stretches,
	     p.left_out, p.f.late.p50, p.stretches_out);
	/* Short: under KVM each byte of the report is an exit. */
	if (w.by_count)
		diag("stamped at the start of each %s period by its count, read when jiffies moved: "
		     "half-brackets up to %lu ns fitted (narrowest %lu); %lu left out over %d x the "
		     "median, %lu too wide (by arrival)", t.ce->name, tsc_to_ns(p.read_half),
		     tsc_to_ns(p.read_min), p.read_out, COUNT_WIDE_FACTOR, w.count_wide);
	diag("the fit's 1-sigma: the floor's flatness %s ppm, the lateness's trend against the "
	     "floor %s ppm (last third's median height less the first's, with their own sigma)%s; "
	     "the median lateness is not charged: a constant delay does not move a rate",
	     fx(a, sizeof(a), (s64)p.floor_ppb, 3), fx(b, sizeof(b), (s64)p.trend_ppb, 3),
	     p.ambiguous ? " not worked out: the fit is held to a period over the span" : "");
	diag("window %lu ms (at least %lu ms, %d ticks; lengthened %lu times): %s", w.window_ns / 1000000,
	     window_ns / 1000000, FIT_MIN_TICKS, w.extended,
	     p.tol_ppb <= JIFFY_TOL_PPB ? "stopped once the tolerance met its target" :
	     "the target was not met within the bound");
	diag("target tolerance %s ppm (Linux's 500 ppm clocksource figure), this fit's %s ppm, "
	     "bound %llu ms of presence", fx(a, sizeof(a), (s64)JIFFY_TOL_PPB, 3),
	     fx(b, sizeof(b), (s64)p.tol_ppb, 3), MAX(window_ns, JIFFY_MAX_NS) / 1000000);
	/* A tolerance from a window the host ruined (a few ticks in short
	 * stretches: 3 fitted of 300 seen, 448050 ppm) would let any rate
	 * pass: the tick is not judged, and the host is named. */
	if (p.tol_ppb > JIFFY_JUDGE_PPB) {
		steal_note_unjudged();
		return error("the host left %lu of %lu jiffy advances in stretches of presence long "
			     "enough to fit (%lu ms away of %lu): the tolerance would be %s ppm, "
			     "beyond the %s ppm a judged rate may have: cannot judge the tick",
			     p.f.n, w.n, tsc_to_ns(w.w.cpu.cycles) / 1000000, w.window_ns / 1000000,
			     fx(a, sizeof(a), (s64)p.tol_ppb, 3),
			     fx(b, sizeof(b), (s64)JIFFY_JUDGE_PPB, 3));
	}
	if (p.ambiguous)
		diag("tick.jiffies_err_ppm: a stretch of presence lies a quarter period or more off "
		     "the fitted line, or half of them a sixteenth: their numbering across the "
		     "absences is not known, and the fit is held to a period over the span");
	v = periodic_judge(env, "tick.jiffies_rate_hz", "tick.jiffies_err_ppm", &p.f, &x);
	if (hidden_periods(&w))
		diag("tick.jiffies_lost: tolerance 1 + %lu excused + %ld periods of KVM steal time "
		     "beyond the gaps seen (%lu ms of steal, %lu ms of gaps)", w.excused,
		     hidden_periods(&w), w.w.cpu.steal_ns / 1000000,
		     tsc_to_ns(gaps_total(&w.w.cpu.absent)) / 1000000);
	return verdict_merge(v, check_within("tick.jiffies_lost", w.lost, 0,
					     jiffy_slack(&w) + hidden_periods(&w), 0, NULL));
}

/* jiffies and the monotonic time they were last advanced at (in the tick's
 * own handler), read together. */
static void tick_snapshot(u64 *j, u64 *ns)
{
	u64 f = irq_save();

	*j = tick_jiffies();
	*ns = tick_last_ns();
	irq_restore(f);
}

TEST(tick, switch)
{
	struct tick_setup t;
	enum verdict v = setup(env, &t, true);
	u64 j0, t0, j1, t1, expect, f, sw_tsc, done, end;
	s64 gap;
	int rc;
	bool with_timers;

	if (v != PASS)
		return v;
	/* A periodic tick: the anchor below needs one (whether the periodic
	 * device keeps its rate is tick.periodic's business). Waited for up
	 * to two periods, as long as this once waited in all. */
	j0 = tick_jiffies();
	end = rdtsc_ordered() + ns_to_tsc(2 * tick_period_ns());
	while (tick_jiffies() == j0 && rdtsc_ordered() < end) {
		test_poll(TEST_POLL_LOOP);
		cpu_relax();
	}
	/* The anchor is the last periodic tick before the switch, taken with
	 * interrupts off so that no tick comes in between: what the periodic
	 * device lost earlier is tick.periodic's business, continuity across
	 * the switch is this test's. */
	f = irq_save();
	tick_snapshot(&j0, &t0);
	if (test_planted(env, "switch", "the anchor's jiffies read one low, as if the switch "
			 "counted a jiffy twice"))
		j0--;
	rc = tick_switch_oneshot();
	irq_restore(f);
	if (rc) {
		finish(&t);
		return error("could not switch %s to oneshot mode", t.ce->name);
	}
	/* The gap is exact (tolerance 0): a jiffy counted twice or lost at
	 * the switch shows in any number of emulated ticks after it. So
	 * tick.timers' rounds run here, on this oneshot tick, instead of on
	 * a tick of their own (tick.timers judges them next): the emulated
	 * tick counts jiffies by the clock (tick/tick.c advance), so the
	 * timers queued beside it and the host's lateness leave the count
	 * as it was; the rounds only make the run longer than SWITCH_TICKS
	 * periods, which are still waited for when they are not run. */
	sw_tsc = rdtsc_ordered();
	with_timers = timers_in_run(env, &t);
	done = rdtsc_ordered() - sw_tsc;
	if (done < ns_to_tsc(SWITCH_TICKS * tick_period_ns()))
		run_for(SWITCH_TICKS * tick_period_ns() - tsc_to_ns(done));
	done = rdtsc_ordered() - sw_tsc;
	/* The end is the last emulated tick, at the time its handler
	 * advanced jiffies to: a tick held up by the host at the window's
	 * end (or a handler kept waiting between its interrupt and its
	 * reading of the clock) is late, not lost, and jiffies are judged at
	 * the time they were computed for. */
	tick_snapshot(&j1, &t1);
	finish(&t);
	/* Jiffies due between the two, by timekeeping: the emulated tick's
	 * periods start one period after the anchor exactly, and each
	 * handler counts every boundary up to its own reading of the clock,
	 * so with none lost the count is exactly the whole periods between. */
	expect = (t1 - t0) / tick_period_ns();
	gap = (s64)(j1 - j0) - (s64)expect;
	measure_x("tick.switch.retries", (s64)tick_stats()->late, 0, NULL, "programmings that found "
		  "their event already due and tried again; %lu back-offs after %d tries, %lu "
		  "catch-up jiffies, %lu -ETIME refusals met by a larger delta, over %lu ms in "
		  "oneshot mode%s", tick_stats()->backoffs, TICK_RETRIES, tick_stats()->catchup,
		  t.ce->etime, tsc_to_ns(done) / 1000000,
		  with_timers ? " with tick.timers' rounds of timers" : "");
	return check_within("tick.switch.jiffies_gap", gap, 0, 0, 0, "jiffies");
}

enum verdict tick_test_start(struct test_env *env, struct tick_setup *t, bool need_oneshot)
{
	return setup(env, t, need_oneshot);
}

void tick_test_stop(struct tick_setup *t)
{
	finish(t);
}

void tick_test_run_for(u64 ns)
{
	run_for(ns);
}

/*
 * Ticks on every CPU: each CPU's own LAPIC timer, and a global device's
 * tick passed on by IPI (broadcast), counted against the time each CPU
 * actually ran. This file continues the smp suite after smp_test.c.
 * Each test must not leave a timer or the broadcast handler running.
 */
#define TEST_ORDER_BASE 100	/* after smp_test.c's tests */
#include "smp_test.h"
#include "absence.h"
#include "arch-x86/cpu.h"
#include "arch-x86/delay.h"
#include "arch-x86/idt.h"
#include "arch-x86/lapic.h"
#include "arch-x86/smp.h"
#include "drivers/lapic_timer.h"
#include "lib/cmdline.h"
#include "lib/math.h"
#include "tick/tick.h"

#define TICK_WINDOW_NS		200000000ull
#define TICK_TRIES		3	/* windows at most, when the host spoils them */

/* One vector counts ticks on each CPU, from its LAPIC timer or from the
 * broadcast IPI. */
static int tick_vector = -1;

static void tick_irq(struct int_frame *f, void *ctx)
{
	(void)f;
	(void)ctx;
	smp_cpu((int)this_cpu())->ticks++;
}

/* Planted faults: extra ticks, PLANT_FACTOR times as many (a lost tick is
 * excused where the host kept the CPU away: a halved, and on a host at
 * load 7 a doubled, rate passed; at load 10-12, with the vCPUs away 85 %
 * of the window, 10x passed 2 runs in 5). */
#define PLANT_FACTOR	40
static int fast_cpu = -1;	/* plant=percpu_ticks: this CPU's timer runs fast */
static bool fast_relay;		/* plant=broadcast: the device runs fast; CPU 0 counts at hz */

static void lapic_tick_start(void *arg)
{
	u64 count = (u64)(uintptr_t)arg / ((int)this_cpu() == fast_cpu ? PLANT_FACTOR : 1);

	smp_cpu((int)this_cpu())->ticks = 0;
	lapic_timer_start(LAPIC_TIMER_DIV16, LVT_TIMER_PERIODIC, (u8)tick_vector, (u32)count);
}

static void lapic_tick_stop(void *arg)
{
	(void)arg;
	lapic_timer_stop();
}

static bool ensure_tick_vector(void)
{
	if (tick_vector < 0) {
		tick_vector = irq_alloc(tick_irq, NULL);
		if (tick_vector < 0)
			return false;
	}
	return true;
}

/* Every CPU busy-waits through the window with interrupts on, watching
 * for the gaps when the host did not run it; CPU 0 also watches the
 * emulator (the per-CPU timers and the broadcast device are the emulator's
 * timers under TCG). Ticks due inside those coalesce, which is not the
 * timer's fault. */
struct spin_arg {
	u64 begin, end, period;
	bool witness;
	bool common;		/* a late CPU is judged over the common window */
};

/* The windows start together, this long after CPU 0 starts calling the
 * others, so that every CPU counts over the same stretch (a CPU woken
 * later is judged over the same window for its own ticks, the part it missed
 * its absence, and over its own window for ticks CPU 0 relays). */
#define WINDOW_LEAD_US		2000
#define WINDOW_LEAD_PER_CPU_US	1000

static struct watch watches[SMP_MAX_CPUS];
static u64 window_ticks[SMP_MAX_CPUS];	/* ticks each CPU took inside its window */

/* Counts only the ticks inside the CPU's own window: starting the
 * timers and the broadcast, and stopping them, takes a call round trip
 * to every CPU, long under a software KVM, and ticks then are not the
 * window's. */
static void spin_window(void *arg)
{
	struct spin_arg *a = arg;
	struct watch *w = &watches[this_cpu()];
	u64 t0;

	irq_enable();
	/* Bounded (a fixed TSC); no PAUSE and the TSC read only now and
	 * then: see spin_lock_until in smp.h. */
	for (u32 n = 0; (++n & 63) || rdtsc_ordered() < a->begin;)
		;
	watch_begin(w, a->period, a->witness && this_cpu() == 0);
	/* A CPU that came late to its own ticks (the host did not run it when
	 * the call came) is still judged over the common window: the time it
	 * missed is its absence, the first poll's step. (Relayed ticks are
	 * judged against CPU 0's count over each CPU's own window instead.) */
	if (a->common)
		steal_backdate(&w->cpu, a->begin);
	t0 = smp_cpu((int)this_cpu())->ticks;
	watch_until(w, a->end);
	window_ticks[this_cpu()] = smp_cpu((int)this_cpu())->ticks - t0;
	watch_end(w);
}

/* Runs the window on every CPU; false when a CPU did not finish it. */
static bool run_window(u64 hz, u64 window_ns, u64 *start, bool witness, bool common)
{
	static struct spin_arg a;

	*start = rdtsc_ordered() + ns_to_tsc((WINDOW_LEAD_US + WINDOW_LEAD_PER_CPU_US *
					     (u64)smp_count()) * 1000ull);
	a.begin = *start;
	a.end = *start + ns_to_tsc(window_ns);
	a.period = tsc_hz() / hz;
	a.witness = witness;
	a.common = common;
	return on_all(spin_window, &a, true);
}

/*
 * Ticks CPU c could not take: due while it did not run, or (for the
 * emulator's timers, what_emulator) while the emulator did not. Without
 * the ticks' phase, an interval of length L excuses floor(L / period).
 */
static u64 excused(int c, u64 period, u64 start, u64 end, bool emulator)
{
	struct gapset all = watches[c].cpu.absent;

	if (emulator)
		gaps_union(&all, &watches[0].emulator);
	/* A stretch between two absences shorter than the gaps the watch
	 * keeps is not known to be presence. */
	gaps_bridge(&all, period / STEAL_RECORD_DIV);
	return gaps_coalesced_any(&all, period, start, end);
}

/*
 * Checks each CPU's tick count: CPU 0's (or every CPU's, for local
 * timers) against hz over the window, and, when `relayed`, every other
 * CPU's against what CPU 0 passed on. Ticks due while a CPU (or, for the
 * device's own ticks, the emulator) did not run are excused, and 2 ticks
 * for the window's ends.
 */
static enum verdict judge_ticks(const char *what, u64 hz, u64 window_ns, bool relayed,
				u64 start, u64 *lost_total)
{
	enum verdict v = PASS;
	u64 period = tsc_hz() / hz;
	u64 len0 = watches[0].cpu.last - watches[0].cpu.start;

	(void)window_ns;
	(void)start;
	*lost_total = 0;
	for (int c = 0; c < smp_count(); c++) {
		bool own = !relayed || c == 0;
		if (c && !smp_cpu_usable(c))
			continue;	/* failed in an earlier test: left out */
		/* Each CPU's own window: the APs start theirs a call round
		 * trip after CPU 0. */
		u64 lo = watches[c].cpu.start, hi = watches[c].cpu.last, len = hi - lo;
		u64 got = window_ticks[c], ex = excused(c, period, lo, hi, own);
		u64 want = own ? len / period : mul_div_u64(window_ticks[0], len, MAX(len0, 1ull));
		char m[48];

		smp_cpu(c)->stolen_periods = ex;
		snprintf_(m, sizeof(m), "smp.%s.cpu%d", what, c);
		measure_x(m, (s64)got, 0, "ticks", "expected %lu in its %lu us window%s; %lu excused: "
			  "due while this vCPU (%lu ms)%s did not run", want, tsc_to_ns(len) / 1000,
			  own ? "" : " (as many as CPU 0 passed on)", ex,
			  tsc_to_ns(gaps_total_in(&watches[c].cpu.absent, lo, hi)) / 1000000,
			  own ? " or the emulator" : "");
		if (got + 2 + ex < want) {
			*lost_total += want - got;
			v = fail("CPU %d took %lu %s ticks, expected %lu (%lu excused: due while it%s "
				 "did not run; +-2 for the window's ends)", c, got, what, want, ex,
				 own ? " or the emulator" : "");
		} else if (got > want + 2) {
			v = fail("CPU %d took %lu %s ticks, more than %lu", c, got, what, want);
		}
	}
	return v;
}

/* ERROR naming the CPUs that did not finish their share of the window. */
static enum verdict unfinished(const char *what)
{
	for (int c = 1; c < smp_count(); c++)
		if (smp_cpu(c)->failed)
			return error("CPU %d did not finish the %s window within %u ms; it is left "
				     "out of the SMP tests that follow", c, what,
				     WORK_TIMEOUT_US / 1000);
	return error("a CPU did not finish the %s window", what);
}

/* Most of a CPU's window absent: its count says little. */
static bool window_spoiled(u64 start, u64 window_ns)
{
	u64 end = start + ns_to_tsc(window_ns);

	for (int c = 0; c < smp_count(); c++) {
		struct gapset all = watches[c].cpu.absent;

		if (c && !smp_cpu_usable(c))
			continue;
		gaps_union(&all, &watches[0].emulator);
		if (gaps_total_in(&all, start, end) > (end - start) / 2)
			return true;
	}
	return false;
}

/*
 * Up to TICK_TRIES windows: start() sets the ticks going, the window runs
 * on every CPU, stop() ends them; a window in which the host kept a CPU
 * (or the emulator) away for most of it is measured again. *start_tsc is
 * the last window's start; false when a CPU did not finish.
 */
static bool tick_windows(const char *what, u64 hz, bool (*start)(u64 hz), void (*stop)(void),
			 bool common, u64 *start_tsc)
{
	u64 tries = 0;
	bool ok, spoiled;
	char m[48];

	do {
		if (tries++)
			steal_note_remeasured();
		for (int c = 0; c < smp_count(); c++)
			smp_cpu(c)->ticks = 0;
		ok = start(hz);
		ok = ok && run_window(hz, TICK_WINDOW_NS, start_tsc, true, common);
		stop();
		spoiled = ok && window_spoiled(*start_tsc, TICK_WINDOW_NS);
	} while (spoiled && tries < TICK_TRIES);
	snprintf_(m, sizeof(m), "smp.%s.remeasured", what);
	measure_x(m, (s64)tries - 1, 0, NULL, "windows measured again: the host kept a CPU or the "
		  "emulator away for most of the window (at most %d)%s", TICK_TRIES - 1,
		  spoiled ? "; the last one too, judged with what it excuses" : "");
	return ok;
}

static u64 lapic_count;

static bool percpu_start(u64 hz)
{
	(void)hz;
	return on_all(lapic_tick_start, (void *)(uintptr_t)lapic_count, true);
}

static void percpu_stop(void)
{
	on_all(lapic_tick_stop, NULL, true);
}

TEST(smp, percpu_ticks)
{
	enum verdict v = need_smp();
	u64 hz = cmdline_u64(env->cmd, "hz", HZ_MIN, HZ_MAX, HZ_DEFAULT), lost, start;
	const struct lapic_timer_info *li = lapic_timer_info();
	bool ok;

	if (v != PASS)
		return v;
	if (cmdline_has(env->cmd, "broadcast"))
		return skip("`broadcast`: local timers are treated as stopped");
	if (!li->freq_hz || !ensure_tick_vector())
		return skip("no calibrated LAPIC timer");
	watchdog_pause();
	lapic_count = (li->freq_hz + hz / 2) / hz;
	if (test_planted(env, "percpu_ticks", "the last CPU's LAPIC timer counts a 40th of the "
			 "period"))
		fast_cpu = smp_count() - 1;
	ok = tick_windows("lapic_ticks", hz, percpu_start, percpu_stop, true, &start);
	fast_cpu = -1;
	watchdog_resume();
	if (!ok)
		return unfinished("per-CPU tick");
	v = judge_ticks("lapic_ticks", hz, TICK_WINDOW_NS, false, start, &lost);
	summary_note("per-CPU ticks lost %lu", lost);
	return v;
}

/* The global device's tick on CPU 0: count it, and pass it on to every
 * other CPU by IPI, as Linux's tick broadcast does for CPUs whose local
 * timer stops. */
static void bcast_handler(struct clockevent *ce)
{
	static u64 n;

	(void)ce;
	if (!fast_relay || !(++n % PLANT_FACTOR))
		smp_cpu(0)->ticks++;
	lapic_ipi_others((u8)tick_vector);
}

static struct clockevent *bcast_ce;
static bool bcast_refused;

static bool bcast_start(u64 hz)
{
	bcast_ce->handler = bcast_handler;
	bcast_refused = bcast_ce->set_periodic(bcast_ce, hz) != 0;
	if (bcast_refused)
		bcast_ce->handler = NULL;
	return !bcast_refused;
}

static void bcast_stop(void)
{
	bcast_ce->handler = NULL;
	bcast_ce->shutdown(bcast_ce);
}

TEST(smp, broadcast)
{
	enum verdict v = need_smp();
	u64 hz = cmdline_u64(env->cmd, "hz", HZ_MIN, HZ_MAX, HZ_DEFAULT), lost, start, worst = 0;
	struct clockevent *ce = clockevent_find("pit");
	bool ok;

	if (v != PASS)
		return v;
	/* The PIT first: under KVM it is emulated in the host kernel, while
	 * the HPET's timers run in QEMU's main loop and were seen to stall
	 * under load (1 tick in 200 ms once). */
	if (!ce)
		ce = clockevent_find("hpet");
	if (!ce || !(ce->features & CE_PERIODIC))
		return skip("no global periodic device (PIT or HPET) to broadcast from");
	if (!ensure_tick_vector())
		return error("no free vector for the broadcast IPI");
	bcast_ce = ce;
	fast_relay = test_planted(env, "broadcast", "the device runs 40x fast; CPU 0 counts one "
				  "tick in 40 but passes on every one");
	ok = tick_windows("broadcast_ticks", hz * (fast_relay ? PLANT_FACTOR : 1), bcast_start,
			  bcast_stop, false, &start);
	fast_relay = false;
	if (!ok) {
		if (bcast_refused)
			return error("%s refused %lu Hz", ce->name, hz);
		return unfinished("broadcast");
	}
	diag("broadcasting %s ticks (%s) by IPI", ce->name, ce->route);
	v = judge_ticks("broadcast_ticks", hz, TICK_WINDOW_NS, true, start, &lost);
	/* Ticks CPU 0 passed on that another CPU did not take, beyond those
	 * that came while that CPU did not run. */
	for (int c = 1; c < smp_count(); c++) {
		/* What CPU 0 took over CPU c's own window (shorter when c
		 * arrived late), as judge_ticks expects it. */
		u64 len0 = watches[0].cpu.last - watches[0].cpu.start;
		u64 len = watches[c].cpu.last - watches[c].cpu.start;
		u64 t0 = mul_div_u64(window_ticks[0], MIN(len, len0), MAX(len0, 1ull));
		u64 tc = window_ticks[c] + smp_cpu(c)->stolen_periods;

		if (smp_cpu_usable(c))
			worst = MAX(worst, t0 > tc ? t0 - tc : 0);
	}
	measure_x("tick.broadcast.lost", (s64)worst, 0, NULL, "most ticks CPU 0 took that another "
		  "CPU did not, beyond those due while it did not run");
	if (worst > 1)
		v = verdict_merge(v, fail("a CPU missed %lu broadcast ticks", worst));
	return v;
}

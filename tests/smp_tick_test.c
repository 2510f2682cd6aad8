/*
 * Ticks on every CPU: each CPU's own LAPIC timer, and a global device's
 * tick passed on by IPI (broadcast), counted against the time each CPU
 * actually ran. This file continues the smp suite after smp_test.c.
 * Each test must not leave a timer or the broadcast handler running.
 */
#define TEST_ORDER_BASE 100	/* after smp_test.c's tests */
#include "smp_test.h"
#include "arch-x86/cpu.h"
#include "arch-x86/delay.h"
#include "arch-x86/idt.h"
#include "arch-x86/lapic.h"
#include "arch-x86/smp.h"
#include "drivers/lapic_timer.h"
#include "lib/cmdline.h"
#include "tick/tick.h"

#define TICK_WINDOW_NS		200000000ull

/* One vector counts ticks on each CPU, from its LAPIC timer or from the
 * broadcast IPI. */
static int tick_vector = -1;

static void tick_irq(struct int_frame *f, void *ctx)
{
	(void)f;
	(void)ctx;
	smp_cpu((int)this_cpu())->ticks++;
}

static void lapic_tick_start(void *arg)
{
	u64 count = (u64)(uintptr_t)arg;

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

/* Every CPU busy-waits through the window with interrupts on, counting
 * the tick periods it did not run (the host had it descheduled): ticks
 * coalesce then, which is not the timer's fault. */
struct spin_arg {
	u64 end, period;
};

static void spin_window(void *arg)
{
	struct spin_arg *a = arg;
	struct steal s;

	irq_enable();
	tsc_wait_steal(a->end, a->period, &s);
	smp_cpu((int)this_cpu())->stolen_periods = s.periods;
}

static bool run_window(u64 hz, u64 window_ns)
{
	static struct spin_arg a;

	a.end = rdtsc_ordered() + ns_to_tsc(window_ns);
	a.period = tsc_hz() / hz;
	return on_all(spin_window, &a, true);
}

/*
 * Checks each CPU's tick count: CPU 0's (or every CPU's, for local
 * timers) against hz over the window, and, when `relayed`, every other
 * CPU's against what CPU 0 passed on. Periods a CPU did not run are
 * allowed for, and 2 ticks for the window's ends.
 */
static enum verdict judge_ticks(const char *what, u64 hz, u64 window_ns, bool relayed,
				u64 *lost_total)
{
	enum verdict v = PASS;
	u64 expect = hz * window_ns / 1000000000ull;

	*lost_total = 0;
	for (int c = 0; c < smp_online(); c++) {
		u64 got = smp_cpu(c)->ticks, stolen = smp_cpu(c)->stolen_periods;
		u64 want = relayed && c ? smp_cpu(0)->ticks : expect;
		char m[48];

		snprintf_(m, sizeof(m), "smp.%s.cpu%d", what, c);
		measure_x(m, (s64)got, 0, "ticks", "expected %lu%s; %lu periods it did not run", want,
			  relayed && c ? " (as many as CPU 0 passed on)" : "", stolen);
		if (got + 2 + stolen < want) {
			*lost_total += want - got;
			v = fail("CPU %d took %lu %s ticks, expected %lu (%lu periods it did not run, "
				 "+-2 for the window's ends)", c, got, what, want, stolen);
		} else if (got > want + 2) {
			v = fail("CPU %d took %lu %s ticks, more than %lu", c, got, what, want);
		}
	}
	return v;
}

TEST(smp, percpu_ticks)
{
	enum verdict v = need_smp();
	u64 hz = cmdline_u64(env->cmd, "hz", HZ_MIN, HZ_MAX, HZ_DEFAULT), count, lost;
	const struct lapic_timer_info *li = lapic_timer_info();

	if (v != PASS)
		return v;
	if (cmdline_has(env->cmd, "broadcast"))
		return skip("`broadcast`: local timers are treated as stopped");
	if (!li->freq_hz || !ensure_tick_vector())
		return skip("no calibrated LAPIC timer");
	watchdog_pause();
	count = (li->freq_hz + hz / 2) / hz;
	on_all(lapic_tick_start, (void *)(uintptr_t)count, true);
	run_window(hz, TICK_WINDOW_NS);
	on_all(lapic_tick_stop, NULL, true);
	watchdog_resume();
	v = judge_ticks("lapic_ticks", hz, TICK_WINDOW_NS, false, &lost);
	summary_note("per-CPU ticks lost %lu", lost);
	return v;
}

/* The global device's tick on CPU 0: count it, and pass it on to every
 * other CPU by IPI, as Linux's tick broadcast does for CPUs whose local
 * timer stops. */
static void bcast_handler(struct clockevent *ce)
{
	(void)ce;
	smp_cpu(0)->ticks++;
	lapic_ipi_others((u8)tick_vector);
}

TEST(smp, broadcast)
{
	enum verdict v = need_smp();
	u64 hz = cmdline_u64(env->cmd, "hz", HZ_MIN, HZ_MAX, HZ_DEFAULT), lost;
	struct clockevent *ce = clockevent_find("pit");

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
	for (int c = 0; c < smp_online(); c++)
		smp_cpu(c)->ticks = 0;
	ce->handler = bcast_handler;
	if (ce->set_periodic(ce, hz)) {
		ce->handler = NULL;
		return error("%s refused %lu Hz", ce->name, hz);
	}
	run_window(hz, TICK_WINDOW_NS);
	ce->handler = NULL;
	ce->shutdown(ce);
	diag("broadcasting %s ticks (%s) by IPI", ce->name, ce->route);
	v = judge_ticks("broadcast_ticks", hz, TICK_WINDOW_NS, true, &lost);
	{
		u64 worst = 0;

		/* Ticks CPU 0 passed on that another CPU did not take, beyond
		 * the periods that CPU did not run. */
		for (int c = 1; c < smp_online(); c++) {
			u64 t0 = smp_cpu(0)->ticks, tc = smp_cpu(c)->ticks + smp_cpu(c)->stolen_periods;

			worst = MAX(worst, t0 > tc ? t0 - tc : 0);
		}
		measure_x("tick.broadcast.lost", (s64)worst, 0, NULL, "most ticks CPU 0 took that "
			  "another CPU did not, beyond the periods it did not run");
		if (worst > 1)
			v = verdict_merge(v, fail("a CPU missed %lu broadcast ticks", worst));
	}
	return v;
}

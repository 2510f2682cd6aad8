/*
 * Every CPU: start-up, TSC synchronisation (and a planted warp), kvm-clock
 * across CPUs, per-CPU ticks, broadcast ticks, IPI latency, and an IOAPIC
 * interrupt routed to a chosen CPU.
 */
#include "sources.h"
#include "arch-x86/acpi.h"
#include "arch-x86/cpu.h"
#include "arch-x86/cpuinfo.h"
#include "arch-x86/idt.h"
#include "arch-x86/ioapic.h"
#include "arch-x86/lapic.h"
#include "arch-x86/smp.h"
#include "drivers/lapic_timer.h"
#include "drivers/pit.h"
#include "drivers/tsc.h"
#include "lib/stats.h"
#include "tick/tick.h"
#include "drivers/kvmclock.h"

#define MSR_TSC			0x10
#define MSR_TSC_ADJUST		0x3B
#define WARP_WINDOW_US		20000	/* Linux's check_tsc_warp: 20 ms */
#define TICK_WINDOW_NS		200000000ull
#define IPI_SAMPLES		32
#define WORK_TIMEOUT_US		2000000	/* an AP's share of a test */

static enum verdict need_smp(void)
{
	if (smp_online() < 2)
		return skip("%d CPU online (%d in the MADT): nothing to compare across", smp_online(),
			    smp_possible());
	return PASS;
}

/* Runs fn on every AP, and on this CPU too when self; waits for all. */
static bool on_all(void (*fn)(void *), void *arg, bool self)
{
	bool ok = true;

	for (int c = 1; c < smp_online(); c++)
		smp_call(c, fn, arg);
	if (self)
		fn(arg);
	for (int c = 1; c < smp_online(); c++)
		ok &= smp_wait(c, WORK_TIMEOUT_US);
	return ok;
}

TEST(smp, bringup)
{
	int failed = 0;

	measure("smp.cpus", smp_possible(), 0, NULL);
	measure("smp.started", smp_online(), 0, NULL);
	measure("smp.bringup_ms", (s64)smp_bringup_ms(), 0, "ms");
	for (int c = 1; c < smp_possible() && c < SMP_MAX_CPUS; c++) {
		struct percpu *p = smp_cpu(c);

		diag("CPU %d: APIC ID %u, %s in %lu us", c, p->apic_id,
		     p->online ? "online" : "did not start", p->start_us);
		failed += !p->online;
	}
	if (smp_possible() < 2)
		return skip("one CPU in the MADT");
	summary_note("%d of %d CPUs, %lu ms", smp_online(), smp_possible(), smp_bringup_ms());
	if (failed)
		return fail("%d CPU(s) did not come up within 100 ms of their STARTUP IPIs", failed);
	return PASS;
}

/* ---- TSC warp: CPUs take turns reading the TSC under a lock ---- */

static spinlock_t warp_lock;
static volatile u64 warp_last, warp_max, warp_steps;
static u64 sim_offset;	/* added to CPU 1's reads when a plant cannot be written */
static volatile u32 warp_go, arrived;

/* Every CPU waits for all the others before its loop starts: a CPU that
 * ran all its turns alone would never see another's TSC. */
static void barrier(void)
{
	__atomic_add_fetch(&arrived, 1, __ATOMIC_SEQ_CST);
	while (arrived < (u32)smp_online() || !warp_go)
		cpu_relax();
}

static void warp_loop(void *arg)
{
	u64 end_loops = (u64)(uintptr_t)arg;

	barrier();
	for (u64 i = 0; i < end_loops; i++) {
		u64 prev, now;

		spin_lock(&warp_lock);
		prev = warp_last;
		now = rdtsc_ordered() + (this_cpu() == 1 ? sim_offset : 0);
		warp_last = now;
		if (prev > now) {
			warp_steps++;
			if (prev - now > warp_max)
				warp_max = prev - now;
		}
		spin_unlock(&warp_lock);
	}
}

static void plant_adjust(void *arg)
{
	wrmsr(MSR_TSC_ADJUST, rdmsr(MSR_TSC_ADJUST) + (u64)(uintptr_t)arg);
}

static void plant_write(void *arg)
{
	wrmsr(MSR_TSC, rdtsc() + (u64)(uintptr_t)arg);
}

static volatile u64 ap_tsc;

static void read_tsc_on(void *arg)
{
	(void)arg;
	ap_tsc = rdtsc_ordered();
}

/* CPU 1's TSC minus CPU 0's, from the midpoint of a call round trip. */
static s64 offset_cpu1(void)
{
	u64 t0 = rdtsc_ordered(), t1;

	smp_call(1, read_tsc_on, NULL);
	smp_wait(1, WORK_TIMEOUT_US);
	t1 = rdtsc_ordered();
	return (s64)(ap_tsc - (t0 + (t1 - t0) / 2));
}

static void read_adjust(void *arg)
{
	((u64 *)arg)[this_cpu()] = rdmsr(MSR_TSC_ADJUST);
}

TEST(smp, tsc_warp)
{
	enum verdict v = need_smp();
	u64 planted = cmdline_u64(env->cmd, "tsc_warp", 1, 1ull << 40, 0), loops, t0;
	static u64 adjust[SMP_MAX_CPUS];

	if (v != PASS)
		return v;
	if (planted) {
		/* IA32_TSC_ADJUST where there is one, else (or when that had
		 * no effect, as under some hypervisors) a write to IA32_TSC. */
		const char *how = "IA32_TSC_ADJUST";
		s64 off = 0;

		if (env->cpu->tsc_adjust) {
			smp_call(1, plant_adjust, (void *)(uintptr_t)planted);
			smp_wait(1, WORK_TIMEOUT_US);
			off = offset_cpu1();
		}
		if (off < (s64)planted / 2) {
			if (env->cpu->tsc_adjust) {	/* undo the ineffective one */
				smp_call(1, plant_adjust, (void *)(uintptr_t)(0 - planted));
				smp_wait(1, WORK_TIMEOUT_US);
			}
			how = "a write to IA32_TSC";
			smp_call(1, plant_write, (void *)(uintptr_t)planted);
			smp_wait(1, WORK_TIMEOUT_US);
			off = offset_cpu1();
		}
		diag("planted a warp of %lu cycles on CPU 1 with %s", planted, how);
		measure_x("tsc.planted_offset_cycles", off, 0, "cycles", "CPU 1 minus CPU 0, from a "
			  "call round trip");
		if (off < (s64)planted / 2) {
			/* Neither write changed the TSC (TCG, and software KVMs,
			 * ignore them): add the offset to CPU 1's readings instead,
			 * which still tests that the detector finds and sizes it. */
			sim_offset = planted;
			diag("the hypervisor ignored both writes; simulating the warp by adding %lu to "
			     "CPU 1's readings", planted);
		}
	}
	if (env->cpu->tsc_adjust) {
		on_all(read_adjust, adjust, true);
		for (int c = 0; c < smp_online(); c++)
			diag("CPU %d: IA32_TSC_ADJUST = %ld", c, (s64)adjust[c]);
	}
	/* Loops for ~20 ms on this CPU: a lock round trip is timed first. */
	t0 = rdtsc_ordered();
	for (int i = 0; i < 100; i++) {
		spin_lock(&warp_lock);
		spin_unlock(&warp_lock);
	}
	loops = mul_div_u64(100, ns_to_tsc(WARP_WINDOW_US * 1000ull), rdtsc_ordered() - t0 + 1);
	loops = MAX(MIN(loops, 2000000ull), 200ull) / (u64)smp_online();
	warp_last = warp_max = warp_steps = 0;
	warp_go = 0;
	arrived = 0;
	for (int c = 1; c < smp_online(); c++)
		smp_call(c, warp_loop, (void *)(uintptr_t)loops);
	warp_go = 1;
	warp_loop((void *)(uintptr_t)loops);
	for (int c = 1; c < smp_online(); c++)
		if (!smp_wait(c, WORK_TIMEOUT_US))
			return error("CPU %d did not finish the warp loop", c);
	warp_go = 0;
	sim_offset = 0;
	measure_x("tsc.warp_cycles.max", (s64)warp_max, 0, "cycles", "%lu steps back in %lu turns "
		  "on each of %d CPUs", warp_steps, loops, smp_online());
	if (warp_max)
		return fail("the TSC went back %lu cycles (%lu ns) between CPUs", warp_max,
			    tsc_to_ns(warp_max));
	return PASS;
}

/* ---- kvm-clock read in turn on every CPU ---- */

static volatile u64 kc_last, kc_warps, kc_max;

static void kvmclock_loop(void *arg)
{
	struct clocksource *cs = arg;

	barrier();
	for (int i = 0; i < 2000; i++) {
		u64 now;

		spin_lock(&warp_lock);
		now = cs->read(cs);
		if (now < kc_last) {
			kc_warps++;
			kc_max = MAX(kc_max, kc_last - now);
		}
		kc_last = now;
		spin_unlock(&warp_lock);
	}
}

TEST(smp, kvmclock)
{
	enum verdict v = need_smp();
	struct clocksource *cs;
	struct pvclock_time p;

	if (v != PASS)
		return v;
	if ((v = source_or_verdict("kvmclock", &cs)) != PASS)
		return v;
	kc_last = kc_warps = kc_max = 0;
	warp_go = 0;
	arrived = 0;
	for (int c = 1; c < smp_online(); c++)
		smp_call(c, kvmclock_loop, cs);
	warp_go = 1;
	kvmclock_loop(cs);
	for (int c = 1; c < smp_online(); c++)
		if (!smp_wait(c, WORK_TIMEOUT_US))
			return error("CPU %d did not finish the kvm-clock loop", c);
	warp_go = 0;
	kvmclock_snapshot(&p);
	measure_x("kvmclock.warps", (s64)kc_warps, 0, NULL, "largest %lu ns; stable bit %s", kc_max,
		  p.flags & PVCLOCK_TSC_STABLE ? "set" : "clear");
	if (kc_warps && (p.flags & PVCLOCK_TSC_STABLE))
		return fail("kvm-clock went back %lu ns across CPUs although its stable bit is set",
			    kc_max);
	if (kc_warps)
		diag("without the stable bit a guest must keep kvm-clock monotonic itself "
		     "(Linux keeps a global last value)");
	return PASS;
}

/* ---- per-CPU LAPIC ticks, and broadcast ticks ---- */

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
	lapic_write(LAPIC_TIMER_DIV, LAPIC_TIMER_DIV16);
	lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_PERIODIC | (u32)tick_vector);
	lapic_write(LAPIC_TIMER_INIT, (u32)count);
}

static void lapic_tick_stop(void *arg)
{
	(void)arg;
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
	lapic_write(LAPIC_TIMER_INIT, 0);
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
	if (lapic_mode() == LAPIC_X2APIC)
		wrmsr(MSR_X2APIC_FIRST + LAPIC_ICR_LO / 16, (3u << 18) | (u32)tick_vector);
	else
		lapic_write(LAPIC_ICR_LO, (3u << 18) | (u32)tick_vector);	/* all but self */
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

/* ---- IPI latency and an IOAPIC interrupt routed to a chosen CPU ---- */

static int ipi_vector = -1;

static void ipi_irq(struct int_frame *f, void *ctx)
{
	struct percpu *p = smp_cpu((int)this_cpu());

	(void)f;
	(void)ctx;
	p->irq_tsc = rdtsc();
	p->ipis++;
}

TEST(smp, ipi_latency)
{
	enum verdict v = need_smp();
	static u64 lat[IPI_SAMPLES * SMP_MAX_CPUS];
	int n = 0;
	struct summary s;

	if (v != PASS)
		return v;
	if (ipi_vector < 0) {
		ipi_vector = irq_alloc(ipi_irq, NULL);
		if (ipi_vector < 0)
			return error("no free vector for the IPI test");
	}
	for (int c = 1; c < smp_online(); c++) {
		struct percpu *p = smp_cpu(c);

		for (int i = 0; i < IPI_SAMPLES; i++) {
			u64 before = p->ipis, t0 = rdtsc_ordered(), end;

			lapic_send_ipi(p->apic_id, (u32)ipi_vector);
			end = t0 + ns_to_tsc(100000000ull);
			while (p->ipis == before)
				if (rdtsc_ordered() > end)
					return fail("IPI %d to CPU %d did not arrive in 100 ms", i, c);
			/* Across CPUs: meaningful only with synchronised TSCs
			 * (smp.tsc_warp says whether they are). */
			lat[n++] = p->irq_tsc > t0 ? tsc_to_ns(p->irq_tsc - t0) : 0;
		}
	}
	summarize(lat, (size_t)n, &s);
	measure_percentiles("ipi.latency_ns", &s, "ns");
	summary_note("IPI p50 %lu us", s.p50 / 1000);
	return PASS;
}

static volatile int irq_cpu = -1;
static volatile u64 irq_hits;

static void route_irq(struct int_frame *f, void *ctx)
{
	(void)f;
	(void)ctx;
	irq_cpu = (int)this_cpu();
	irq_hits++;
}

TEST(smp, irq_route)
{
	enum verdict v = need_smp();
	int target = smp_online() - 1, vec, gsi;
	u64 end;

	if (v != PASS)
		return v;
	if (!env->nioapics) {
		const char *p = acpi_problem(env->acpi, "APIC");

		return skip("no IOAPIC known (%s)", p ? p : "no ACPI MADT");
	}
	vec = irq_alloc(route_irq, NULL);
	if (vec < 0)
		return error("no free interrupt vector");
	irq_cpu = -1;
	irq_hits = 0;
	gsi = ioapic_route_isa(0, (u8)vec, smp_cpu(target)->apic_id);
	pit_ch0_periodic(PIT_HZ / 1000);
	end = rdtsc_ordered() + ns_to_tsc(100000000ull);
	while (irq_hits < 10 && rdtsc_ordered() < end)
		cpu_relax();
	pit_ch0_stop();
	ioapic_mask_gsi((u32)gsi);
	irq_clear_handler((u8)vec);
	diag("ISA IRQ0 -> GSI %d -> APIC %u (CPU %d): %lu interrupts, the last on CPU %d", gsi,
	     smp_cpu(target)->apic_id, target, irq_hits, irq_cpu);
	if (!irq_hits)
		return fail("no IRQ0 reached CPU %d in 100 ms", target);
	if (irq_cpu != target)
		return fail("IRQ0 routed to CPU %d landed on CPU %d", target, irq_cpu);
	return PASS;
}

/*
 * Every CPU: start-up, TSC synchronisation (and a planted warp), and
 * kvm-clock read in turn across CPUs. Ticks and interrupts across CPUs are
 * in smp_tick_test.c and smp_ipi_test.c.
 * Work on other CPUs must not be waited for without a bound (on_all,
 * smp_wait).
 */
#include "sources.h"
#include "smp_test.h"
#include "arch-x86/cpu.h"
#include "arch-x86/cpuinfo.h"
#include "arch-x86/delay.h"
#include "arch-x86/smp.h"
#include "arch-x86/lapic.h"
#include "arch-x86/idt.h"
#include "drivers/kvmclock.h"
#include "lib/stats.h"

#define MSR_TSC			0x10
#define MSR_TSC_ADJUST		0x3B
#define WARP_WINDOW_US		20000	/* Linux's check_tsc_warp: 20 ms */
/* A warp shows only where one CPU's turn follows another's, and only in
 * one direction (from the CPU ahead to the one behind): a window with
 * fewer than one handover each way (the host ran the CPUs one after the
 * other; the xchg lock is not fair, so under TCG one CPU often keeps it
 * for long runs) is run again, at most WARP_TRIES windows in all. */
#define WARP_MIN_HANDOVERS	2
#define WARP_TURN_WAIT_NS	50000	/* for another CPU's turn, at most */
#define WARP_TRIES		3
/* Each CPU's turns end by this long after the barrier, whatever is left:
 * with many vCPUs on few host cores a descheduled lock holder stalls
 * every other CPU, and the turns would outlast the call's bound. */
#define WARP_DEADLINE_US	300000

int usable_cpus(void)
{
	int n = 0;

	for (int c = 0; c < smp_count(); c++)
		n += c == 0 || smp_cpu_usable(c);
	return n;
}

enum verdict need_smp(void)
{
	if (smp_online() < 2)
		return skip("%d CPU online (%d in the MADT): nothing to compare across", smp_online(),
			    smp_possible());
	if (usable_cpus() < 2)
		return error("%d of %d CPUs failed in an earlier test: nothing left to compare "
			     "across", smp_online() - usable_cpus(), smp_online());
	return PASS;
}

bool on_all(void (*fn)(void *), void *arg, bool self)
{
	bool ok = true, called[SMP_MAX_CPUS] = { false };

	for (int c = 1; c < smp_count(); c++)
		called[c] = smp_call(c, fn, arg) == 0;
	if (self)
		fn(arg);
	for (int c = 1; c < smp_count(); c++)
		if (called[c])
			ok &= smp_wait(c, WORK_TIMEOUT_US);
	return ok;
}

/* Each AP's start-up time (first STARTUP IPI to online, us), eight to a
 * line: with hundreds of CPUs one line each would swamp the report. */
static void print_start_times(void)
{
	char line[160];
	int len = 0;

	for (int c = 1; c < smp_count(); c++) {
		struct percpu *p = smp_cpu(c);

		if (!len)
			len = snprintf_(line, sizeof(line), "start-up us, CPU %d (APIC ID %u) on:", c,
					p->apic_id);
		if (p->online)
			len += snprintf_(line + len, sizeof(line) - (size_t)len, " %lu", p->start_us);
		else
			len += snprintf_(line + len, sizeof(line) - (size_t)len, " -");
		if ((c - 1) % 8 == 7 || c == smp_count() - 1) {
			diag("%s", line);
			len = 0;
		}
	}
}

/* Names (by APIC ID) the CPUs that did not start, and why; returns how
 * many. */
static int report_not_started(char *ids, size_t size)
{
	int failed = 0;
	size_t len = 0;

	ids[0] = 0;
	for (int c = 1; c < smp_count(); c++) {
		struct percpu *p = smp_cpu(c);

		if (p->online)
			continue;
		diag("CPU %d, APIC ID %u: %s", c, p->apic_id, p->not_sent ? p->not_sent :
		     "did not come online after INIT, STARTUP, STARTUP");
		if (failed++ < 16 && len + 12 < size)
			len += (size_t)snprintf_(ids + len, size - len, "%s%u", failed > 1 ? ", " : "",
						 p->apic_id);
	}
	if (failed > 16 && len + 6 < size)
		snprintf_(ids + len, size - len, ", ...");
	return failed;
}

TEST(smp, bringup)
{
	static u64 us[SMP_MAX_CPUS];
	char ids[200];
	int failed, n = 0;
	struct summary s;

	measure("smp.cpus", smp_possible(), 0, NULL);
	measure("smp.started", smp_online(), 0, NULL);
	measure_x("smp.left_out", smp_left_out(), 0, NULL, "enabled MADT CPUs beyond the %d "
		  "tickscope starts, not started", SMP_MAX_CPUS);
	measure("smp.bringup_ms", (s64)smp_bringup_ms(), 0, "ms");
	if (smp_possible() < 2)
		return skip("one CPU in the MADT");
	for (int c = 1; c < smp_count(); c++)
		if (smp_cpu(c)->online)
			us[n++] = smp_cpu(c)->start_us;
	summarize(us, (size_t)n, &s);
	measure_x("smp.start_us.p50", (s64)s.p50, 0, "us", "first STARTUP IPI to online, over %d "
		  "APs started at once", n);
	measure("smp.start_us.max", (s64)s.max, 0, "us");
	print_start_times();
	if (cmdline_has(env->cmd, "smp_lost"))
		diag("smp_lost=%lu: no IPIs were sent to that APIC ID (planted: it must be named "
		     "below)", cmdline_u64(env->cmd, "smp_lost", 0, 0xFFFFFFFEull, 0));
	failed = report_not_started(ids, sizeof(ids));
	if (smp_left_out())
		diag("%d enabled CPUs of the MADT were left out: tickscope starts at most %d",
		     smp_left_out(), SMP_MAX_CPUS);
	summary_note("%d of %d CPUs, %lu ms%s", smp_online(), smp_possible(), smp_bringup_ms(),
		     smp_left_out() ? " (the rest beyond the limit)" : "");
	if (failed)
		return fail("%d CPU(s) did not start: APIC ID %s; the other %d went on", failed, ids,
			    smp_online());
	return PASS;
}

/* ---- TSC warp: CPUs take turns reading the TSC under a lock ---- */

static spinlock_t warp_lock;
static volatile u64 warp_last, warp_max, warp_steps, warp_handovers;
static volatile u32 warp_last_cpu, warp_running;
static u64 sim_offset;	/* added to CPU 1's reads when a plant cannot be written */
static volatile u32 warp_go, arrived;
static volatile u32 barrier_missed;

static int wake_vector = -1;

static void wake_irq(struct int_frame *f, void *ctx)
{
	(void)f;
	(void)ctx;	/* waking a CPU from HLT is all it is for */
}

/*
 * Every CPU waits for all the others before its loop starts: a CPU that
 * ran all its turns alone would never see another's TSC. The APs wait
 * halted, not spinning: with dozens of vCPUs on a few host cores,
 * spinning waiters take the host from the CPUs still to be called (under
 * multi-threaded TCG a PAUSE even takes QEMU's global lock). CPU 0 waits
 * for them, bounded: a CPU that never arrives (it failed, or the host has
 * not run it yet) must not hold the others for ever; they start without
 * it, and the test says so (barrier_missed). Then CPU 0 wakes them all
 * with one IPI. The loops judge only the handovers they saw, so a late
 * start costs comparisons, not correctness.
 */
static void barrier(void)
{
	u64 end = rdtsc_ordered() + ns_to_tsc(BARRIER_TIMEOUT_US * 1000ull);

	__atomic_add_fetch(&arrived, 1, __ATOMIC_SEQ_CST);
	if (this_cpu() != 0) {
		for (;;) {	/* CPU 0 always releases: see run_together */
			irq_disable();
			if (warp_go)
				break;
			__asm__ volatile("sti; hlt" ::: "memory");
		}
		irq_enable();
		return;
	}
	while (arrived < (u32)usable_cpus() && rdtsc_ordered() < end)
		;
	barrier_missed = (u32)usable_cpus() - arrived;
	warp_go = 1;
	lapic_ipi_others((u8)wake_vector);
}

/*
 * Runs loop(arg) on every usable CPU at once, all starting together at
 * the barrier; what names the loop for the report. ERROR when a CPU did
 * not finish in time (it is then left out of later tests).
 */
static enum verdict run_together(void (*loop)(void *), void *arg, const char *what)
{
	bool called[SMP_MAX_CPUS] = { false };

	if (wake_vector < 0 && (wake_vector = irq_alloc(wake_irq, NULL)) < 0)
		return error("no free vector to wake the CPUs for the %s", what);
	warp_go = 0;
	arrived = 0;
	barrier_missed = 0;
	for (int c = 1; c < smp_count(); c++)
		called[c] = smp_call(c, loop, arg) == 0;
	loop(arg);	/* its barrier() releases the others */
	for (int c = 1; c < smp_count(); c++)
		if (called[c] && !smp_wait(c, WORK_TIMEOUT_US)) {
			warp_go = 0;
			return error("CPU %d did not finish the %s within %u ms", c, what,
				     WORK_TIMEOUT_US / 1000);
		}
	warp_go = 0;
	if (barrier_missed)
		diag("%u CPU(s) had not arrived for the %s when CPU 0 stopped waiting for "
		     "them after %u ms; the others started without them", barrier_missed, what,
		     BARRIER_TIMEOUT_US / 1000);
	return PASS;
}

/* Hands over: the xchg lock is not fair, and a CPU that keeps it compares
 * only with itself. Waits (briefly: the others may be descheduled, or
 * done) for another CPU's turn. No PAUSE (see barrier()), and the TSC
 * read only now and then (see spin_lock_until). */
static void wait_handover(void)
{
	u64 wait_end = rdtsc_ordered() + ns_to_tsc(WARP_TURN_WAIT_NS);
	u32 n = 0;

	while (warp_last_cpu == this_cpu() && warp_running > 1 &&
	       ((++n & 63) || rdtsc_ordered() < wait_end))
		;
}

static void warp_loop(void *arg)
{
	u64 end_loops = (u64)(uintptr_t)arg, deadline;

	barrier();
	deadline = rdtsc_ordered() + ns_to_tsc(WARP_DEADLINE_US * 1000ull);
	for (u64 i = 0; i < end_loops && rdtsc_ordered() < deadline; i++) {
		u64 prev, now;

		wait_handover();
		if (!spin_lock_until(&warp_lock, deadline))
			break;
		prev = warp_last;
		now = rdtsc_ordered() + (this_cpu() == 1 ? sim_offset : 0);
		warp_last = now;
		warp_handovers += warp_last_cpu != this_cpu();
		warp_last_cpu = this_cpu();
		if (prev > now) {
			warp_steps++;
			if (prev - now > warp_max)
				warp_max = prev - now;
		}
		spin_unlock(&warp_lock);
	}
	__atomic_sub_fetch(&warp_running, 1, __ATOMIC_SEQ_CST);
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

/*
 * CPU 1's TSC minus CPU 0's, from the midpoint of a call round trip, less
 * the round trip's half: the least the offset can be. The narrowest of a
 * few round trips is taken. A round trip the host stretched (vCPU 1 not
 * run for tens of ms) once made an ignored write look effective, so the
 * warp was neither written nor simulated and the plant went unseen.
 */
#define OFFSET_TRIES	5
static s64 offset_cpu1(void)
{
	s64 best = 0;
	u64 best_rtt = UINT64_MAX;

	for (int i = 0; i < OFFSET_TRIES; i++) {
		u64 t0 = rdtsc_ordered(), t1;

		smp_call(1, read_tsc_on, NULL);
		smp_wait(1, WORK_TIMEOUT_US);
		t1 = rdtsc_ordered();
		if (t1 - t0 < best_rtt) {
			best_rtt = t1 - t0;
			best = (s64)(ap_tsc - (t0 + (t1 - t0) / 2));
		}
	}
	return best >= 0 ? best - (s64)MIN(best_rtt / 2, (u64)best) : best;
}

static void read_adjust(void *arg)
{
	((u64 *)arg)[this_cpu()] = rdmsr(MSR_TSC_ADJUST);
}

/* Plants a warp of `planted` cycles on CPU 1: IA32_TSC_ADJUST where
 * there is one, else (or when that had no effect, as under some
 * hypervisors) a write to IA32_TSC. */
static void plant_warp(struct test_env *env, u64 planted)
{
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
	measure_x("tsc.planted_offset_cycles", off, 0, "cycles", "CPU 1 minus CPU 0, from the "
		  "narrowest of %d call round trips, less its half when ahead", OFFSET_TRIES);
	if (off < (s64)planted / 2) {
		/* Neither write changed the TSC (TCG, and software KVMs,
		 * ignore them): add the offset to CPU 1's readings instead,
		 * which still tests that the detector finds and sizes it. */
		sim_offset = planted;
		diag("the hypervisor ignored both writes; simulating the warp by adding %lu to "
		     "CPU 1's readings", planted);
	}
}

TEST(smp, tsc_warp)
{
	enum verdict v = need_smp();
	u64 planted = cmdline_u64(env->cmd, "tsc_warp", 1, 1ull << 40, 0), loops, t0, tries = 0;
	static u64 adjust[SMP_MAX_CPUS];

	if (v != PASS)
		return v;
	if (planted)
		plant_warp(env, planted);
	if (env->cpu->tsc_adjust) {
		on_all(read_adjust, adjust, true);
		diag("CPU 0: IA32_TSC_ADJUST = %ld", (s64)adjust[0]);
		for (int c = 1; c < smp_count(); c++)	/* only those that differ */
			if (smp_cpu_usable(c) && adjust[c] != adjust[0])
				diag("CPU %d: IA32_TSC_ADJUST = %ld", c, (s64)adjust[c]);
	}
	/* Loops for ~20 ms on this CPU: a lock round trip is timed first. */
	t0 = rdtsc_ordered();
	for (int i = 0; i < 100; i++) {
		spin_lock(&warp_lock);
		spin_unlock(&warp_lock);
	}
	loops = mul_div_u64(100, ns_to_tsc(WARP_WINDOW_US * 1000ull), rdtsc_ordered() - t0 + 1);
	loops = MAX(MIN(loops, 2000000ull), 200ull) / (u64)usable_cpus();
	/* The turns compare CPUs only where one CPU's turn follows
	 * another's: if the host ran the CPUs one after the other (one
	 * descheduled while the other took all its turns), the window showed
	 * nothing and is run again, at most twice. */
	do {
		if (tries++)
			steal_note_remeasured();
		warp_last = warp_max = warp_steps = warp_handovers = 0;
		warp_last_cpu = 0;
		warp_running = (u32)usable_cpus();
		v = run_together(warp_loop, (void *)(uintptr_t)loops, "warp loop");
	} while (v == PASS && warp_handovers < WARP_MIN_HANDOVERS && tries < WARP_TRIES);
	sim_offset = 0;
	if (v != PASS)
		return v;
	measure_x("tsc.warp_cycles.max", (s64)warp_max, 0, "cycles", "%lu steps back in at most %lu "
		  "turns on each of %d CPUs, %lu handovers between CPUs; %lu windows run again because "
		  "the host ran the CPUs one after the other", warp_steps, loops, usable_cpus(),
		  warp_handovers, tries - 1);
	if (!warp_max && warp_handovers < WARP_MIN_HANDOVERS) {
		steal_note_unjudged();
		return error("the CPUs handed over only %lu times in %lu windows: the host ran them "
			     "one after the other, cannot judge", warp_handovers, tries);
	}
	if (warp_max)
		return fail("the TSC went back %lu cycles (%lu ns) between CPUs", warp_max,
			    tsc_to_ns(warp_max));
	return PASS;
}

/* ---- kvm-clock read in turn on every CPU ---- */

static volatile u64 kc_last, kc_warps, kc_max;
static u64 kc_sim_offset;	/* plant=smp_kvmclock: added to CPU 1's reads */

static void kvmclock_loop(void *arg)
{
	struct clocksource *cs = arg;
	u64 deadline;

	barrier();
	deadline = rdtsc_ordered() + ns_to_tsc(WARP_DEADLINE_US * 1000ull);
	for (int i = 0; i < 2000 && rdtsc_ordered() < deadline; i++) {
		u64 now;

		wait_handover();
		if (!spin_lock_until(&warp_lock, deadline))
			break;
		now = cs->read(cs) + (this_cpu() == 1 ? kc_sim_offset : 0);
		if (now < kc_last) {
			kc_warps++;
			kc_max = MAX(kc_max, kc_last - now);
		}
		kc_last = now;
		warp_handovers += warp_last_cpu != this_cpu();
		warp_last_cpu = this_cpu();
		spin_unlock(&warp_lock);
	}
	__atomic_sub_fetch(&warp_running, 1, __ATOMIC_SEQ_CST);
}

TEST(smp, kvmclock)
{
	enum verdict v = need_smp();
	struct clocksource *cs;
	struct pvclock_time p;
	u64 tries = 0;

	if (v != PASS)
		return v;
	if ((v = source_or_verdict("kvmclock", &cs)) != PASS)
		return v;
	/* 1 s: longer than any handover (the turns end 300 ms after the
	 * start); with 1 ms, every handover at load 13 under kvm_pvm took
	 * longer and the plant passed. */
	if (test_planted(env, "smp_kvmclock", "CPU 1's kvm-clock reads 1 s ahead of CPU 0's"))
		kc_sim_offset = 1000000000;
	/* As for the TSC: the reads compare CPUs only where one CPU's turn
	 * follows another's. Without the hand-over wait one CPU was seen
	 * to keep the lock through a whole window under KVM here, and a
	 * planted 1 ms warp passed (2 runs in 8). */
	do {
		if (tries++)
			steal_note_remeasured();
		kc_last = kc_warps = kc_max = 0;
		warp_handovers = 0;
		warp_last_cpu = 0;
		warp_running = (u32)usable_cpus();
		v = run_together(kvmclock_loop, cs, "kvm-clock loop");
	} while (v == PASS && !kc_warps && warp_handovers < WARP_MIN_HANDOVERS &&
		 tries < WARP_TRIES);
	kc_sim_offset = 0;
	if (v != PASS)
		return v;
	kvmclock_snapshot(&p);
	measure_x("kvmclock.warps", (s64)kc_warps, 0, NULL, "largest %lu ns; stable bit %s; %lu "
		  "handovers between CPUs, %lu windows run again because the host ran the CPUs one "
		  "after the other", kc_max, p.flags & PVCLOCK_TSC_STABLE ? "set" : "clear",
		  warp_handovers, tries - 1);
	if (!kc_warps && warp_handovers < WARP_MIN_HANDOVERS) {
		steal_note_unjudged();
		return error("the CPUs handed over only %lu times in %lu windows: the host ran them "
			     "one after the other, cannot judge", warp_handovers, tries);
	}
	if (kc_warps && (p.flags & PVCLOCK_TSC_STABLE))
		return fail("kvm-clock went back %lu ns across CPUs although its stable bit is set",
			    kc_max);
	if (kc_warps)
		diag("without the stable bit a guest must keep kvm-clock monotonic itself "
		     "(Linux keeps a global last value)");
	return PASS;
}

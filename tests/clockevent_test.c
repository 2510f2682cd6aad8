/*
 * Tests every clockevent through the clockevent interface: oneshot
 * latency polling and halted (never early, never lost; tests/oneshot.c)
 * and the periodic rate, lost ticks and jitter, all timed by the
 * calibrated TSC. A test here must not program a device except through
 * that interface.
 */
#include "periodic.h"
#include "arch-x86/cpu.h"
#include "arch-x86/delay.h"
#include "lib/stats.h"
#include "tick/clockevent.h"
#include "arch-x86/cpuinfo.h"
#include "drivers/lapic_timer.h"
#include "oneshot.h"
#include "measure/lapic_rate.h"

#define PERIODIC_HZ		250	/* the default HZ */
/* The RTC only has powers of two. Its emulation runs on QEMU's main-loop
 * timers, which were seen to drop one 256 Hz period in 50 under TCG;
 * 64 Hz leaves 15 ms between ticks. */
#define RTC_TEST_HZ		64
#define PERIODIC_WINDOW_MS	200	/* default; periodic_ms= sets it */

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
	u64 taken, discarded;
	struct steal stolen;
	struct periodic_fit fit;
};

/* One window of periodic interrupts at hz, placed on the device's grid
 * and fitted. */
static void periodic_window(struct test_env *env, struct clockevent *ce, u64 hz, u64 window_ns,
			    struct periodic_result *r)
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
	tsc_wait_steal(rdtsc_ordered() + ns_to_tsc(window_ns), period, &r->stolen);
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
	r->taken = n - first;
	plant_rate(env, stamps + first, n - first);
	periodic_fit(stamps + first, NULL, n - first, period, &r->fit);
}

/* Lost (beyond the periods the CPU did not run: those coalesce, the
 * host's doing) or extra ticks. */
static bool bad_count(const struct periodic_result *r)
{
	return r->fit.lost > (s64)r->stolen.periods || r->fit.extra;
}

static enum verdict ce_periodic(struct test_env *env, const char *name)
{
	struct clockevent *ce;
	enum verdict v = ce_or_verdict(name, CE_PERIODIC, &ce);
	u64 hz = !__builtin_strcmp(name, "rtc") ? RTC_TEST_HZ : PERIODIC_HZ;
	u64 window_ns = periodic_window_ns(env, PERIODIC_WINDOW_MS);
	struct periodic_result r;
	struct periodic_fit *f = &r.fit;
	struct rate_expect x;
	bool retried = false;
	char m[64], e[64];

	if (v != PASS)
		return v;
	periodic_window(env, ce, hz, window_ns, &r);
	/* Like Linux's clocksource watchdog, which reads again before it
	 * blames a clock: a device that loses ticks loses them again, while
	 * an emulator's main loop held up once does not. */
	if (!r.refused && f->status == 0 && bad_count(&r)) {
		diag("first window: %ld lost, %ld extra in %lu us (%lu periods not run); measuring "
		     "again", f->lost, f->extra, tsc_to_ns(f->span) / 1000, r.stolen.periods);
		periodic_window(env, ce, hz, window_ns, &r);
		retried = true;
	}
	if (r.refused)
		return error("%s refused a periodic rate of %lu Hz", name, hz);
	if (r.discarded)
		diag("discarded %lu stale interrupt(s) from before the first period", r.discarded);
	diag("%s: %s; programmed %lu.%03lu Hz (%lu ticks of %lu Hz) for %lu ms", name, ce->route,
	     ce->period_mhz / 1000, ce->period_mhz % 1000, ce->period_ticks, ce->freq_hz,
	     window_ns / 1000000);
	if (f->status)
		return fail("only %lu periodic interrupts in %lu ms at %lu Hz", r.taken,
			    window_ns / 1000000, hz);
	snprintf_(m, sizeof(m), "%s.periodic.lost", name);
	measure_x(m, f->lost, 0, NULL, "%lu interrupts over %lu us, ticks %lu..%lu of the grid%s",
		  f->n, tsc_to_ns(f->span) / 1000, f->k_first, f->k_last,
		  retried ? "; second window" : "");
	snprintf_(m, sizeof(m), "%s.periodic.extra", name);
	measure_x(m, f->extra, 0, NULL, "more interrupts than ticks");
	snprintf_(m, sizeof(m), "%s.periodic.bunched", name);
	measure_x(m, f->bunched, 0, NULL, "ticks delivered more than a period late, then the next "
		  "at once");
	snprintf_(m, sizeof(m), "%s.periodic.lateness_ns", name);
	measure_percentiles(m, &f->late, "ns");
	snprintf_(m, sizeof(m), "%s.periodic.stolen_ms", name);
	measure_x(m, (s64)(tsc_to_ns(r.stolen.cycles) / 1000000), 0, "ms", "%lu gaps of a period "
		  "or more when this CPU did not run, %lu periods inside them", r.stolen.gaps,
		  r.stolen.periods);
	summary_note("periodic %lu Hz, lost %ld, bunched %ld", hz, f->lost, f->bunched);
	periodic_expect(env, ce, &x);
	snprintf_(m, sizeof(m), "%s.periodic.rate_hz", name);
	snprintf_(e, sizeof(e), "%s.periodic.err_ppm", name);
	v = periodic_judge(env, m, e, f, &x);
	if (bad_count(&r))
		v = verdict_merge(v, fail("%ld ticks lost (%lu inside time the CPU did not run) and "
					  "%ld extra in %lu us%s", f->lost, r.stolen.periods, f->extra,
					  tsc_to_ns(f->span) / 1000,
					  retried ? ", in two windows running" : ""));
	return v;
}

TEST(pit, oneshot) { return ce_oneshot("pit", env); }
TEST(pit, periodic) { return ce_periodic(env, "pit"); }
TEST(hpet, oneshot) { return ce_oneshot("hpet", env); }
TEST(hpet, periodic) { return ce_periodic(env, "hpet"); }
TEST(rtc, periodic) { return ce_periodic(env, "rtc"); }
TEST(lapic, oneshot) { return ce_oneshot("lapic", env); }
TEST(lapic, periodic) { return ce_periodic(env, "lapic"); }
TEST(tscdeadline, oneshot) { return ce_oneshot("tscdeadline", env); }

/* QEMU's LAPIC timer counts nanoseconds of its virtual clock before the
 * divider (hw/intc/apic.c: the count is (now - load time) >> count_shift),
 * KVM's counts 1 ns bus cycles (arch/x86/kvm/lapic.c,
 * APIC_BUS_CYCLE_NS_DEFAULT): 1 GHz / 16 for both. */
#define QEMU_LAPIC_DIV16_HZ	62500000ull

/* The LAPIC rate the hypervisor is known to give it, or 0. */
static u64 lapic_nominal(const struct cpu_info *ci, const char **why)
{
	if (!__builtin_strcmp(ci->hv_sig, "TCGTCGTCGTCG") || !__builtin_strcmp(ci->hv_sig, "KVMKVMKVM")) {
		*why = "QEMU and KVM: a 1 GHz bus clock / 16";
		return QEMU_LAPIC_DIV16_HZ;
	}
	*why = "no bus clock is known for this machine";
	return 0;
}

TEST(lapic, calibration)
{
	struct clockevent *ce;
	enum verdict v = ce_or_verdict("lapic", 0, &ce);
	const struct lapic_timer_info *li = lapic_timer_info();
	const struct lapic_rate *lr = lapic_rate_last();
	u64 hz_milli, nominal, unc, tol;
	struct truth t;
	const char *why;
	char a[24], b[24];

	if (v != PASS)
		return v;
	if (lr->status)
		return fail("the LAPIC timer's count could not be fitted against the TSC: %lu of %lu "
			    "samples usable", lr->fit.kept, lr->fit.samples);
	/* By the known TSC rate when given, else by the ruler (whose
	 * reference is then what it rests on). */
	truth_or_ruler(env, &t);
	hz_milli = mul_div_u64(lr->hz_milli, t.tsc_hz, tsc_hz());
	unc = hypot_u64(lr->fit_unc_ppb, t.unc_ppb);
	measure_x("lapic.freq_hz.measured", (s64)hz_milli, 3, "Hz", "divide by 16; fitted against "
		  "the TSC, %lu of %lu samples, brackets %lu-%lu cycles, unc %s ppm; by %s; boot "
		  "estimate %lu Hz", lr->fit.kept, lr->fit.samples, lr->fit.min_width,
		  lr->fit.max_width, fx(a, sizeof(a), (s64)lr->fit_unc_ppb, 3), t.name, lr->guess_hz);
	measure("lapic.freq_hz", (s64)li->freq_hz, 0, "Hz");
	nominal = lapic_nominal(env->cpu, &why);
	if (nominal) {
		tol = 3 * unc + t.spec_ppb;
		diag("held to %lu Hz (%s) by %s: tol = 3 x %s ppm + %s ppm for what %s rests on",
		     nominal, why, t.name, fx(a, sizeof(a), (s64)unc, 3),
		     fx(b, sizeof(b), (s64)t.spec_ppb, 3), t.name);
		v = check_within("lapic.freq_err_ppm", ppb_diff(hz_milli, nominal * 1000), 0, (s64)tol,
				 3, "ppm");
	} else {
		diag("%s: the rate is reported, not judged", why);
	}
	if (!li->claimed_hz)
		return v;
	/* Linux accepts a LAPIC calibration within 1 % of its cross-check. */
	diag("claim from %s: %lu Hz", li->claim_source, li->claimed_hz);
	return verdict_merge(v, check_within("lapic.claim_err_ppm",
					     ppb_diff(hz_milli, li->claimed_hz * 1000), 0, 10000000,
					     3, "ppm"));
}

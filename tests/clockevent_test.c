/*
 * Tests every clockevent through the clockevent interface: oneshot
 * latency polling and halted (never early, never lost; tests/oneshot.c)
 * and the periodic rate, lost ticks and jitter, all timed by the
 * calibrated TSC. A test here must not program a device except through
 * that interface.
 */
#include "periodic.h"
#include "absence.h"
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
/* The RTC's 64 Hz gives 13 ticks in 200 ms, too few for the envelope's
 * floor (a -629 ppm miss against a 456 ppm tolerance was seen under TCG
 * -smp 2); 800 ms gives 51, as many as the others get at 250 Hz. */
#define RTC_WINDOW_MS		800
#define PERIODIC_TRIES		3	/* windows at most, when the host spoils them */

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
	u64 excused;		/* grid ticks that fell due while nothing ran */
	struct watch w;		/* the vCPU's and the emulator's absences */
	struct periodic_fit fit;
};

/* One window of periodic interrupts at hz, placed on the device's grid
 * and fitted, watched for absences: the RTC's own test cannot use the
 * RTC witness. */
static void periodic_window(struct test_env *env, struct clockevent *ce, u64 hz, u64 window_ns,
			    struct periodic_result *r)
{
	u64 first = 0, period, start, stop, n;
	struct periodic_fit *f = &r->fit;

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
	watch_begin(&r->w, period, __builtin_strcmp(ce->name, "rtc"));
	watch_until(&r->w, rdtsc_ordered() + ns_to_tsc(window_ns));
	/* A device that owes ticks delivers them late (KVM's PIT reinjects
	 * what its injecting host thread could not deliver, once it runs):
	 * while more than one tick due has not come, the window runs on, by
	 * at most half of it, so that the catch-up lands inside. */
	for (u64 limit = r->w.cpu.last + ns_to_tsc(window_ns / 2);
	     r->w.cpu.last < limit && (r->w.cpu.last - start) / period > nstamps + 1;)
		watch_until(&r->w, MIN(r->w.cpu.last + 10 * period, limit));
	ce->handler = NULL;	/* what shutting down may raise is not a tick */
	stop = rdtsc_ordered();
	ce->shutdown(ce);
	watch_end(&r->w);
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
	periodic_fit(stamps + first, NULL, n - first, period, f);
	if (f->status)
		return;
	/* Two interrupts in one cell of the grid are extra only if there are
	 * more interrupts in all than ticks were due from programming to
	 * shutdown: a device that delivers ticks late rather than dropping
	 * them (KVM's PIT reinjects, one per acknowledgement) puts those it
	 * caught up on in the cells where they arrived. */
	if (r->taken <= (stop - start) / period + 1) {
		f->bunched += f->extra;
		f->extra = 0;
	}
	/* Ticks due inside an absence coalesce there (all but one). A stretch
	 * between two absences shorter than the gaps the watch keeps is not
	 * known to be presence (it may hold gaps too short to keep): it joins
	 * them. */
	gaps_bridge(&r->w.all, period / STEAL_RECORD_DIV);
	/* Ticks that came were late by the median lateness even with this
	 * vCPU present: one due that long before an absence began was still
	 * on its way when it began, and met the others there. */
	gaps_widen(&r->w.all, ns_to_tsc(f->late.p50));
	r->excused = gaps_coalesced(&r->w.all, f->t_ref, period, f->k_first, f->k_last);
}

/* Lost beyond what absences excuse, or extra ticks: the device's. */
static bool bad_count(const struct periodic_result *r)
{
	return r->fit.lost > (s64)r->excused || r->fit.extra;
}

/* A window the host spoiled: it coalesced ticks, or left too few. */
static bool spoiled(const struct periodic_result *r)
{
	return r->fit.status || r->excused;
}

/* KVM counted more steal time in the window, by a period, than the
 * vCPU's gaps show: the host was short of CPU in ways the guest cannot
 * place, and KVM's in-kernel PIT and LAPIC timers inject from host
 * threads that nothing in the guest can watch. */
static bool hidden_steal(const struct periodic_result *r, u64 period)
{
	u64 seen = tsc_to_ns(gaps_total(&r->w.cpu.absent));

	return r->w.cpu.steal_known && r->w.cpu.steal_ns > seen + tsc_to_ns(period);
}

/* Lost beyond the excuse, and extra: what the device is judged on. */
static s64 unexcused(const struct periodic_result *r)
{
	return MAX(r->fit.lost - (s64)r->excused, 0ll) + r->fit.extra;
}

static bool less_spoiled(const struct periodic_result *a, const struct periodic_result *b)
{
	if (a->fit.status)
		return false;
	if (b->fit.status || unexcused(a) != unexcused(b))
		return b->fit.status || unexcused(a) < unexcused(b);
	return a->excused < b->excused;
}

static void report_absences(const char *name, const struct periodic_result *r, u64 tries)
{
	char m[64];

	snprintf_(m, sizeof(m), "%s.periodic.excused", name);
	measure_x(m, (s64)r->excused, 0, NULL, "ticks due while this vCPU (%lu ms in %lu gaps) "
		  "or the emulator (%lu ms more, by the %s) did not run", tsc_to_ns(r->w.cpu.cycles)
		  / 1000000, r->w.cpu.gaps, tsc_to_ns(watch_emulator_only(&r->w)) / 1000000,
		  watch_witness_what(&r->w));
	snprintf_(m, sizeof(m), "%s.periodic.remeasured", name);
	measure_x(m, (s64)tries - 1, 0, NULL, "windows measured again because the host's "
		  "absences spoiled them (at most %d)%s", PERIODIC_TRIES - 1, r->w.witness ? "" :
		  ", or lost ticks with the emulator unwatched");
}

/*
 * A window the host spoiled is measured again, a bounded number of times;
 * the least spoiled is judged, with what fell due inside the absences
 * excused. A window with unexcused loss is not measured again (a device
 * that loses ticks is judged on the window it lost them in), unless
 * nothing could watch where the ticks come from: the RTC is its own
 * witness, so the main loop's absences in its test are unseen, and KVM's
 * steal time beyond the gaps seen says the host was short of CPU for
 * threads the guest cannot watch. Returns the windows measured (0: the
 * device refused the rate).
 */
static u64 periodic_best(struct test_env *env, struct clockevent *ce, u64 hz, u64 window_ns,
			 struct periodic_result *best)
{
	static struct periodic_result r;
	u64 tries = 0;

	do {
		periodic_window(env, ce, hz, window_ns, &r);
		if (tries++)
			steal_note_remeasured();
		if (r.refused)
			return 0;
		if (tries == 1 || less_spoiled(&r, best))
			*best = r;
		if (!r.fit.status && bad_count(&r) && r.w.witness &&
		    !hidden_steal(&r, mul_div_u64(tsc_hz(), 1000, ce->period_mhz))) {
			*best = r;
			break;
		}
	} while ((spoiled(best) || bad_count(best)) && tries < PERIODIC_TRIES);
	return tries;
}

static enum verdict ce_periodic(struct test_env *env, const char *name)
{
	struct clockevent *ce;
	enum verdict v = ce_or_verdict(name, CE_PERIODIC, &ce);
	u64 hz = !__builtin_strcmp(name, "rtc") ? RTC_TEST_HZ : PERIODIC_HZ, tries;
	u64 window_ns = periodic_window_ns(env, !__builtin_strcmp(name, "rtc") ? RTC_WINDOW_MS :
					   PERIODIC_WINDOW_MS);
	static struct periodic_result r;
	struct periodic_fit *f = &r.fit;
	struct rate_expect x;
	char m[64], e[64];

	if (v != PASS)
		return v;
	tries = periodic_best(env, ce, hz, window_ns, &r);
	if (!tries)
		return error("%s refused a periodic rate of %lu Hz", name, hz);
	if (r.discarded)
		diag("discarded %lu stale interrupt(s) from before the first period", r.discarded);
	diag("%s: %s; programmed %lu.%03lu Hz (%lu ticks of %lu Hz) for %lu ms", name, ce->route,
	     ce->period_mhz / 1000, ce->period_mhz % 1000, ce->period_ticks, ce->freq_hz,
	     window_ns / 1000000);
	report_absences(name, &r, tries);
	if (f->status) {
		if (r.w.cpu.cycles + watch_emulator_only(&r.w) > ns_to_tsc(window_ns) / 2) {
			steal_note_unjudged();
			return error("only %lu periodic interrupts in %lu ms at %lu Hz in each of %lu "
				     "windows, the host absent for most of each: cannot judge the "
				     "device", r.taken, window_ns / 1000000, hz, tries);
		}
		return fail("only %lu periodic interrupts in %lu ms at %lu Hz", r.taken,
			    window_ns / 1000000, hz);
	}
	/* Lost is what the device is judged on: missing from the grid
	 * beyond what the host's absences excuse. */
	snprintf_(m, sizeof(m), "%s.periodic.lost", name);
	measure_x(m, MAX(f->lost - (s64)r.excused, 0ll), 0, NULL, "beyond those excused: %ld "
		  "missing from ticks %lu..%lu of the grid, %lu excused; %lu interrupts over %lu us",
		  f->lost, f->k_first, f->k_last, r.excused, f->n, tsc_to_ns(f->span) / 1000);
	snprintf_(m, sizeof(m), "%s.periodic.extra", name);
	measure_x(m, f->extra, 0, NULL, "more interrupts than ticks");
	snprintf_(m, sizeof(m), "%s.periodic.bunched", name);
	measure_x(m, f->bunched, 0, NULL, "ticks delivered more than a period late, then the next "
		  "at once");
	snprintf_(m, sizeof(m), "%s.periodic.lateness_ns", name);
	measure_percentiles(m, &f->late, "ns");
	snprintf_(m, sizeof(m), "%s.periodic.stolen_ms", name);
	measure_x(m, (s64)(tsc_to_ns(r.w.cpu.cycles) / 1000000), 0, "ms", "%lu gaps of a period "
		  "or more when this CPU did not run, %lu periods inside them", r.w.cpu.gaps,
		  r.w.cpu.periods);
	summary_note("periodic %lu Hz, lost %ld (%lu excused), bunched %ld", hz, f->lost, r.excused,
		     f->bunched);
	periodic_expect(env, ce, &x);
	snprintf_(m, sizeof(m), "%s.periodic.rate_hz", name);
	snprintf_(e, sizeof(e), "%s.periodic.err_ppm", name);
	v = periodic_judge(env, m, e, f, &x);
	if (bad_count(&r))
		v = verdict_merge(v, fail("%ld ticks lost (%lu of them excused: due while this vCPU or "
					  "the emulator did not run) and %ld extra in %lu us",
					  f->lost, r.excused, f->extra, tsc_to_ns(f->span) / 1000));
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

/* The TSC's rate: measured against every reference in one window, each
 * result with its uncertainty, compared with every claim and with the
 * known answer (tsc_hz=). It must not change the ruler, only read it. */
#include "sources.h"
#include "arch-x86/cpuinfo.h"
#include "arch-x86/delay.h"
#include "drivers/tsc.h"

static void print_khz(const char *name, u64 hz, const char *fmt_extra, u64 unc_ppb,
		      const struct cal_result *r, const struct cal_run *run)
{
	char u[24];

	measure_x(name, (s64)hz, 3, "kHz", fmt_extra, fx(u, sizeof(u), (s64)unc_ppb, 3), r->kept,
		  r->samples, r->min_width, r->max_width,
		  (r->window_ns ? r->window_ns : run->window_ns) / 1000000);
}

/*
 * tsc.err_ppm.<ref>: the TSC rate measured against r held to the known
 * answer, or without one to the best other independent reference, and
 * the report says which (rate_tolerance_ppb gives the tolerance).
 */
static enum verdict held_to_truth(struct test_env *env, char *name, size_t size, const char *ref,
				  const struct cal_result *r)
{
	struct truth t;
	const char *cite;
	u64 spec = source_spec_ppb(r->cs, &cite);
	char a[24], b[24];

	if (!truth_for(env, r, &t))
		return skip("no known TSC rate (tsc_hz=) and no other independent reference to hold "
			    "it to");
	if (t.ref)
		diag("held to the agreement with %s (%lu Hz, unc %s ppm): no tsc_hz= was given",
		     t.name, t.tsc_hz, fx(a, sizeof(a), (s64)t.unc_ppb, 3));
	else
		diag("held to the known answer %s%lu (unc %s ppm)", t.name, t.tsc_hz,
		     fx(a, sizeof(a), (s64)t.unc_ppb, 3));
	diag("tol = 3 x combined uncertainty + %s ppm (%s)%s%s", fx(b, sizeof(b), (s64)spec, 3), cite, t.spec_ppb ? " + the other's " : "",
	     t.spec_ppb ? fx(a, sizeof(a), (s64)t.spec_ppb, 3) : "");
	snprintf_(name, size, "tsc.err_ppm%s%s", ref ? "." : "", ref ? ref : "");
	return check_within(name, ppb_diff(r->tsc_hz, t.tsc_hz), 0,
			    (s64)rate_tolerance_ppb(r->cs, r->unc_ppb, &t), 3, "ppm");
}

static enum verdict against(const char *ref, struct test_env *env)
{
	struct clocksource *cs;
	enum verdict v = source_or_verdict(ref, &cs);
	const struct cal_result *r = cal_for(ref);
	const struct cal_run *run = calibrate_last();
	char name[48];

	if (v != PASS)
		return v;
	if (!r)
		return error("%s is registered but was not calibrated against", ref);
	if (r->back_windows)
		diag("%s measured again alone %lu time(s) on the other counters' ruler: it stepped "
		     "back or its wraps were counted by the early ruler (the host kept us away "
		     "between reads)", ref, r->back_windows);
	if (r->short_windows)
		diag("%s measured again alone %lu time(s): too few of its samples were usable (the "
		     "host kept this vCPU away for most of the window)", ref, r->short_windows);
	if (r->cs->read_exact) {
		diag("%s is computed from the TSC: each value is placed at the TSC it converted, "
		     "not at its bracket's middle", ref);
		snprintf_(name, sizeof(name), "tsc.rebases.%s", ref);
		measure_x(name, (s64)r->rebases_seen, 0, NULL, "the record's "
			  "base or scale changed inside the calibration's windows (the hypervisor's "
			  "re-base), the largest step %lu ns; %lu window(s) measured again for one, "
			  "%lu in the window judged", r->step_max_seen, r->rebase_windows, r->rebases);
	}
	if (r->cs->flags & CS_EVENTS) {
		snprintf_(name, sizeof(name), "tsc.remeasured.%s", ref);
		measure_x(name, (s64)r->remeasured, 0, NULL, "windows measured again alone (at most "
			  "%u, each twice the one before): too few of its flags were seen to fit (they "
			  "coalesce while the host keeps the poller or the emulator away), or the early "
			  "ruler made the shared window short; and once more when one that fitted was "
			  "beyond 3 sigma of the ruler", CAL_RETRIES);
		cal_events_diag(env, r);
	}
	if (r->status)
		return unusable_verdict(env, r, ref);
	snprintf_(name, sizeof(name), "tsc.freq_khz.%s", ref);
	print_khz(name, r->tsc_hz, "unc %s ppm, %lu of %lu samples, brackets %lu-%lu cycles, "
		  "window %lu ms", r->unc_ppb, r, run);
	if (r->backwards)
		return fail("%s stepped backwards %lu times during calibration, the largest step %lu "
			    "ticks (%lu us) back, in each of %lu windows", ref, r->backwards, r->back_max,
			    mul_div_u64(r->back_max, 1000000, MAX(r->cs->freq_hz, 1ull)),
			    r->back_windows + 1);
	return held_to_truth(env, name, sizeof(name), ref, r);
}

TEST(tsc, freq_hpet) { return against("hpet", env); }
TEST(tsc, freq_pm) { return against("pm", env); }
TEST(tsc, freq_pit) { return against("pit", env); }
TEST(tsc, freq_rtc) { return against("rtc", env); }
TEST(tsc, freq_kvmclock) { return against("kvmclock", env); }

/*
 * A claim is a statement about the hardware. CPUID 0x15 derives the rate
 * from the crystal, whose accuracy no leaf states: held to the refined-
 * calibration threshold Linux warns at (500 ppm). The hypervisor's leaf
 * (0x40000010) states, in kHz, the rate it runs the guest's TSC at: held
 * to the truth's stated uncertainty (3 x) plus the leaf's 1 kHz rounding
 * and what the truth itself rests on. A hypervisor that pins a rate KVM
 * cannot scale to (within kvm.tsc_tolerance_ppm, 250 ppm) states a rate
 * the TSC does not run at, and this catches it.
 */
static enum verdict claim_held(struct test_env *env, const struct tsc_claims *c, u64 claim)
{
	struct truth t;
	u64 tol;

	if (c->cpuid15_hz)
		return check_within("tsc.claim_err_ppm", ppb_diff(claim, tsc_hz()), 0, 500000, 3,
				    "ppm");
	truth_or_ruler(env, &t);
	tol = 3 * t.unc_ppb + mul_div_u64(1000, 1000000000ull, claim) + 1 + t.spec_ppb;
	diag("the hypervisor's leaf held to %s (%lu Hz): 3 x its unc + 1 kHz rounding%s", t.name,
	     t.tsc_hz, t.spec_ppb ? " + what it rests on" : "");
	return check_within("tsc.claim_err_ppm", ppb_diff(claim, t.tsc_hz), 0, (s64)tol, 3, "ppm");
}

TEST(tsc, claims)
{
	struct tsc_claims c;
	const char *which;
	u64 claim, final = tsc_hz();

	tsc_read_claims(env->cpu, &c);
	diag("claims: cpuid 0x15 %lu Hz, cpuid 0x16 %lu Hz, hypervisor leaf %lu Hz, "
	     "kvm-clock scale %lu Hz (0 = not given)", c.cpuid15_hz, c.cpuid16_hz, c.hv_hz,
	     c.kvmclock_hz);
	diag("invariant TSC %s, rdtscp %s", env->cpu->invariant_tsc ? "yes" : "no",
	     env->cpu->rdtscp ? "yes" : "no");
	if (c.kvmclock_hz) {
		char e[24];

		measure_x("tsc.freq_khz.kvmclock_scale", (s64)c.kvmclock_hz, 3, "kHz",
			  "err %s ppm against the calibrated rate",
			  fx(e, sizeof(e), ppb_diff(c.kvmclock_hz, final), 3));
	}
	claim = tsc_cpuid_claim(&c, &which);
	if (!claim)
		return skip("neither CPUID nor the hypervisor states a TSC rate");
	{
		char e[24];

		measure_x("tsc.freq_khz.cpuid", (s64)claim, 3, "kHz", "%s; err %s ppm against the "
			  "calibrated rate", which, fx(e, sizeof(e), ppb_diff(claim, final), 3));
	}
	/* Leaf 0x16 is only the nominal base frequency: reported, not judged. */
	if (!c.cpuid15_hz && !c.hv_hz)
		return PASS;
	return claim_held(env, &c, claim);
}

TEST(tsc, freq)
{
	const struct cal_run *run = calibrate_last();
	u64 hz = tsc_hz();
	char e[24], name[48];

	diag("rule: the independent reference (not kvm-clock) with the smallest uncertainty");
	diag("early estimate %lu Hz from %s", run->early_hz, run->early_source);
	if (run->n == 0)
		return skip("no counter to calibrate the TSC against (no HPET, PM timer, PIT or "
			    "RTC); still using %s (%lu Hz)", tsc_hz_source(), hz);
	if (run->chosen < 0)
		return fail("no reference gave a usable TSC rate; still using %s (%lu Hz)",
			    tsc_hz_source(), hz);
	measure_x("tsc.freq_khz", (s64)hz, 3, "kHz", "from %s, unc %s ppm", tsc_hz_source(),
		  fx(e, sizeof(e), (s64)run->r[run->chosen].unc_ppb, 3));
	summary_note("%lu.%03lu MHz from %s", hz / 1000000, hz / 1000 % 1000, tsc_hz_source());
	return held_to_truth(env, name, sizeof(name), NULL, &run->r[run->chosen]);
}

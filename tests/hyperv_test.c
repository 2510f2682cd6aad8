/* What only Hyper-V's clocks have: the reference TSC page's scale and
 * sequence, its agreement with the reference counter MSR, and the
 * frequency MSRs' claims against the calibrated TSC and LAPIC timer. The
 * rate, read cost and monotonicity are clocksource_test.c's. */
#define TEST_ORDER_BASE 500	/* after clocksource_test.c's hyperv tests */
#include "sources.h"
#include "arch-x86/cpu.h"
#include "drivers/hyperv.h"
#include "measure/lapic_rate.h"

/* 2^-32: the relative error of the 32-bit multiplier behind KVM's
 * reference counter MSR (kvm-clock's tsc_to_system_mul), in units of
 * 1/2^32 per unit of time. */
#define KVM_MUL_BITS	32

TEST(hyperv, page)
{
	struct clocksource *cs;
	enum verdict v = source_or_verdict("hyperv", &cs);
	const struct hyperv_info *hi = hyperv_info();
	struct truth t;
	u64 scale, a, m, b, page_hz, tol, worst = 0;
	s64 offset, err;
	char e[24];

	if (v != PASS)
		return v;
	if (!hyperv_page(&scale, &offset))
		return fail("the reference TSC page went invalid (sequence 0) or never held still");
	page_hz = hv_scale_tsc_hz(scale);
	diag("scale 0x%016lx, offset %ld (100 ns), %lu retries, %lu fallbacks to the MSR", scale,
	     offset, hi->retries, hi->fallbacks);
	/* The TLFS: the page and the reference counter MSR give one time
	 * base. Each floors to 100 ns, and under KVM the MSR rests on
	 * kvm-clock's 32-bit multiplier (2^-32 of the time since boot). */
	for (int i = 0; i < 16; i++) {
		u64 lo, d;

		a = cs->read(cs);
		m = hyperv_ref_counter();
		b = cs->read(cs);
		tol = 2 + (m >> KVM_MUL_BITS);
		lo = a > tol ? a - tol : 0;
		if (m < lo || m > b + tol)
			return fail("reference counter MSR %lu outside the page's reads [%lu, %lu] "
				    "+- %lu (100 ns)", m, a, b, tol);
		d = m < a ? a - m : m > b ? m - b : 0;
		worst = MAX(worst, d);
	}
	measure_x("hyperv.msr_vs_page", (s64)worst, 0, "x100ns", "the MSR outside the page's "
		  "bracket, at most %lu", tol);
	measure("hyperv.retries", (s64)hi->retries, 0, NULL);
	if (hi->fallbacks)
		return fail("%lu reads found the page invalid mid-run", hi->fallbacks);
	/* The scale states the TSC rate the hypervisor assumed. */
	truth_or_ruler(env, &t);
	err = ppb_diff(page_hz, t.tsc_hz);
	tol = 3 * t.unc_ppb + t.spec_ppb + mul_div_u64(1000, 1000000000ull, page_hz ? page_hz : 1);
	measure_x("hyperv.scale_khz", (s64)page_hz, 3, "kHz", "err %s ppm against %s",
		  fx(e, sizeof(e), err, 3), t.name);
	diag("held to %s: 3 x its unc + what it rests on + 1 kHz (KVM keeps the rate in kHz)",
	     t.name);
	return check_within("hyperv.scale_err_ppm", err, 0, (s64)tol, 3, "ppm");
}

/*
 * The frequency MSRs: HV_X64_MSR_TSC_FREQUENCY states the TSC rate in Hz
 * (KVM from its kHz figure), held to the truth as the hypervisor leaf is
 * in tsc.claims. The APIC rate is reported against the measured LAPIC
 * timer (16 x its divide-by-16 rate), not judged: KVM states a fixed bus
 * figure whose relation to the emulated timer is its own.
 */
TEST(hyperv, claims)
{
	struct clocksource *cs;
	enum verdict v = source_or_verdict("hyperv", &cs);
	const struct hyperv_info *hi = hyperv_info();
	const struct lapic_rate *lr = lapic_rate_last();
	struct truth t;
	u64 tol;
	char e[24];

	if (v != PASS)
		return v;
	if (!hi->tsc_freq_hz)
		return skip("Hyper-V offers no frequency MSRs (0x40000003 EAX 0x%x EDX 0x%x; QEMU: "
			    "hv-frequencies)", hi->privileges, hi->features_edx);
	if (hi->apic_freq_hz && lr->status == 0) {
		u64 lapic_hz = lr->hz_milli * 16 / 1000;

		measure_x("hyperv.apic_freq_khz", (s64)hi->apic_freq_hz, 3, "kHz",
			  "measured LAPIC timer %lu Hz, err %s ppm (reported, not judged)", lapic_hz,
			  fx(e, sizeof(e), ppb_diff(hi->apic_freq_hz, lapic_hz), 3));
	}
	truth_or_ruler(env, &t);
	tol = 3 * t.unc_ppb + t.spec_ppb + mul_div_u64(1000, 1000000000ull, hi->tsc_freq_hz);
	measure_x("hyperv.tsc_freq_khz", (s64)hi->tsc_freq_hz, 3, "kHz",
		  "calibrated %lu Hz, err %s ppm", tsc_hz(),
		  fx(e, sizeof(e), ppb_diff(hi->tsc_freq_hz, tsc_hz()), 3));
	diag("held to %s (%lu Hz): 3 x its unc + what it rests on + 1 kHz (KVM's unit)", t.name,
	     t.tsc_hz);
	return check_within("hyperv.tsc_freq_err_ppm", ppb_diff(hi->tsc_freq_hz, t.tsc_hz), 0,
			    (s64)tol, 3, "ppm");
}

/*
 * Drift between every pair of sources over the calibration window. Every
 * source was sampled in that same window against the TSC, so the TSC
 * rate measured against a (F_a) and against b (F_b) give b's rate
 * relative to a: (time by a) / (time by b) - 1 = F_b / F_a - 1.
 * It must not read any source itself: it uses the calibration's results.
 */
#include "sources.h"

/* Two sources each within its cited accuracy (source_spec_ppb: the HPET
 * spec's 500 ppm, the RTC's 23 ppm, Linux's 500 ppm for the rest) can
 * disagree by the sum; further apart (beyond their combined measurement
 * uncertainty), they cannot both be right. */
TEST(drift, pairs)
{
	const struct cal_run *run = calibrate_last();
	enum verdict v = SKIP;
	int pairs = 0, off = -1;
	u64 worst = 0;

	/* Planted: the first reference's calibrated rate taken 1 % high, as
	 * a reference whose crystal ran 1 % off would give (a copy: the
	 * other tests keep the calibration as it was). */
	if (test_planted(env, "drift", "the first reference's TSC rate taken 1 % high"))
		for (int i = 0; i < run->n && off < 0; i++)
			off = run->r[i].status ? -1 : i;

	for (int i = 0; i < run->n; i++) {
		const struct cal_result *a = &run->r[i];

		if (a->status)
			continue;
		for (int j = i + 1; j < run->n; j++) {
			const struct cal_result *b = &run->r[j];
			char name[64], e[24], t[24];
			const char *cite;
			s64 ppb;
			u64 tol;

			if (b->status)
				continue;
			ppb = ppb_diff(j == off ? b->tsc_hz + b->tsc_hz / 100 : b->tsc_hz,
				       i == off ? a->tsc_hz + a->tsc_hz / 100 : a->tsc_hz);
			tol = source_spec_ppb(a->cs, &cite) + source_spec_ppb(b->cs, &cite) +
			      3 * hypot_u64(a->unc_ppb, b->unc_ppb);
			snprintf_(name, sizeof(name), "drift.%s.%s.ppm", a->cs->name, b->cs->name);
			measure_x(name, ppb, 3, "ppm", "offset %s ns over %lu ms, tol %s ppm",
				  fx(e, sizeof(e), mul_div_s64(ppb, run->window_ns, 1000000000ull), 0),
				  run->window_ns / 1000000, fx(t, sizeof(t), (s64)tol, 3));
			pairs++;
			worst = MAX(worst, (u64)(ppb < 0 ? -ppb : ppb));
			if (ppb > (s64)tol || ppb < -(s64)tol)
				v = verdict_merge(v, fail("%s and %s disagree by %ld ppb (tolerance %lu)",
							  a->cs->name, b->cs->name, ppb, tol));
			else
				v = verdict_merge(v, PASS);
		}
	}
	if (!pairs)
		return skip("fewer than two sources besides the TSC");
	summary_note("%d pairs, worst %lu.%03lu ppm", pairs, worst / 1000, worst % 1000);
	return v;
}

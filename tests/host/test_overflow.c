/* Overflow edges, on the host under UBSan: the 64-bit helpers of lib/math.h
 * at their limits, kvm-clock's scaling when the TSC is behind the record,
 * and the calibration fit over long windows, fast TSCs, a 32-bit PM timer
 * and wild samples. It must use only HOST_LIB code (ASan/UBSan build);
 * the references here are computed in 128-bit integers or long double. */
#include "tests/host/check.h"
#include "drivers/kvmclock.h"
#include "lib/math.h"
#include "measure/calfit.h"
#include "tick/clocksource.h"
#include <stdlib.h>

static u64 rng = 0x9e3779b97f4a7c15ull;

/* splitmix64: deterministic, so a failure reproduces. */
static u64 next_u64(void)
{
	u64 z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* sqrt and fabs in long double, without libm. */
static long double sqrt_ld(long double v)
{
	long double x = v > 1 ? v : 1;

	for (int i = 0; i < 200; i++)
		x = (x + v / x) / 2;
	return x;
}

static long double abs_ld(long double v)
{
	return v < 0 ? -v : v;
}

/* A random value of a random bit length: edges are where bugs live. */
static u64 any_u64(void)
{
	unsigned bits = (unsigned)(next_u64() % 65);

	return bits == 64 ? next_u64() : next_u64() & ((1ull << bits) - 1);
}

static void test_mul_div(void)
{
	CHECK(mul_div_u64(UINT64_MAX, UINT64_MAX, UINT64_MAX) == UINT64_MAX);
	CHECK(mul_div_u64(UINT64_MAX, UINT64_MAX - 1, UINT64_MAX) == UINT64_MAX - 1);
	CHECK(mul_div_u64(UINT64_MAX, UINT64_MAX, UINT64_MAX - 1) == UINT64_MAX);	/* > 2^64 */
	CHECK(mul_div_u64(1ull << 63, 2, 1) == UINT64_MAX);
	CHECK(mul_div_u64(1ull << 63, 2, 2) == 1ull << 63);
	CHECK(mul_div_u64(0, UINT64_MAX, 1) == 0);
	CHECK(mul_div_u64(7, 3, 0) == UINT64_MAX);
	for (int i = 0; i < 100000; i++) {
		u64 a = any_u64(), b = any_u64(), c = any_u64();
		u128 q = c ? (u128)a * b / c : (u128)UINT64_MAX + 1;

		CHECK(mul_div_u64(a, b, c) == (q > UINT64_MAX ? UINT64_MAX : (u64)q));
	}
	CHECK(mul_div_s64(INT64_MIN, 1, 1) == INT64_MIN);
	CHECK(mul_div_s64(INT64_MIN, 2, 1) == INT64_MIN);
	CHECK(mul_div_s64(INT64_MIN, 1, 2) == -(1ll << 62));
	CHECK(mul_div_s64(INT64_MAX, 2, 1) == INT64_MAX);
	CHECK(mul_div_s64(INT64_MAX, UINT64_MAX, UINT64_MAX) == INT64_MAX);
	CHECK(mul_div_s64(-1, UINT64_MAX, UINT64_MAX) == -1);
	CHECK(mul_div_s64(-7, 1, 2) == -3);	/* toward zero */
	CHECK(mul_div_s64(-5, 1, 0) == INT64_MIN);
}

static void test_ppb(void)
{
	/* The difference of two u64 does not fit an s64: taking it signed
	 * turned (2^64 - 1) - 1 negative. */
	CHECK(ppb_diff(UINT64_MAX, 1) == INT64_MAX);
	CHECK(ppb_diff(1, UINT64_MAX) == -999999999);
	CHECK(ppb_diff(UINT64_MAX, UINT64_MAX) == 0);
	CHECK(ppb_diff(1ull << 63, (1ull << 63) - 1) == 0);
	CHECK(ppb_diff(0, 5) == -1000000000);
	CHECK(ppb_diff(5, 0) == INT64_MAX);
	CHECK(ppb_diff(0, 0) == INT64_MAX);
	CHECK(ppb_diff(1000000001, 1000000000) == 1);
	CHECK(ppb_diff(999999999, 1000000000) == -1);
	CHECK(ppb_diff(9223372037ull, 1) == 9223372036000000000ll);
	CHECK(ppb_diff(9223372038ull, 1) == INT64_MAX);	/* 9.2233720370e18 ppb */
	for (int i = 0; i < 100000; i++) {
		u64 a = any_u64(), b = any_u64() | 1;
		u128 mag = (a >= b ? (u128)(a - b) : (u128)(b - a)) * 1000000000u / b;
		s64 want = mag > INT64_MAX ? (a >= b ? INT64_MAX : INT64_MIN) :
			   a >= b ? (s64)mag : -(s64)mag;

		CHECK(ppb_diff(a, b) == want);
	}
}

static bool sqrt_ok(u64 r, u128 v)
{
	return (u128)r * r <= v && ((u128)r + 1) * ((u128)r + 1) > v;
}

static void test_sqrt(void)
{
	const u64 e[] = { 0, 1, 2, 3, 4, 15, 16, 17, 0xFFFFFFFFull, 1ull << 32,
			  0xFFFFFFFE00000001ull, 0xFFFFFFFE00000000ull, 1ull << 62, 1ull << 63,
			  UINT64_MAX - 1, UINT64_MAX };

	/* Newton's first step (v + 1) / 2 wrapped to 0 for v = 2^64 - 1 and
	 * then divided by it. */
	CHECK(isqrt_u64(UINT64_MAX) == 0xFFFFFFFFull);
	for (size_t i = 0; i < ARRAY_SIZE(e); i++) {
		CHECK(sqrt_ok(isqrt_u64(e[i]), e[i]));
		CHECK(sqrt_ok(isqrt_u128(e[i]), e[i]));
	}
	CHECK(isqrt_u128(~(u128)0) == UINT64_MAX);
	CHECK(isqrt_u128((u128)UINT64_MAX * UINT64_MAX) == UINT64_MAX);
	CHECK(isqrt_u128((u128)UINT64_MAX * UINT64_MAX - 1) == UINT64_MAX - 1);
	for (int i = 0; i < 20000; i++) {
		u64 v = any_u64();
		u128 w = ((u128)any_u64() << 64) | any_u64();

		CHECK(sqrt_ok(isqrt_u64(v), v));
		CHECK(sqrt_ok(isqrt_u128(w), w));
	}
	/* hypot: a * a overflowed 64 bits from a = 2^32 on. */
	CHECK(hypot_u64(3000000000ull, 4000000000ull) == 5000000000ull);
	CHECK(hypot_u64(1ull << 40, 0) == 1ull << 40);
	CHECK(hypot_u64(0, UINT64_MAX) == UINT64_MAX);
	CHECK(hypot_u64(UINT64_MAX, UINT64_MAX) == UINT64_MAX);	/* saturates */
	CHECK(hypot_u64(1ull << 63, 1ull << 63) == 13043817825332782212ull);	/* 2^63 sqrt 2 */
	CHECK(hypot_u64(0, 0) == 0);
	for (int i = 0; i < 20000; i++) {
		u64 a = any_u64() >> 1, b = any_u64() >> 1;

		CHECK(sqrt_ok(hypot_u64(a, b), (u128)a * a + (u128)b * b));
	}
}

static void test_mul_div_u128(void)
{
	CHECK(mul_div_u128((u128)1 << 100, 1ull << 20, (u128)1 << 60) == 1ull << 60);
	CHECK(mul_div_u128(~(u128)0, UINT64_MAX, ~(u128)0) == UINT64_MAX);
	CHECK(mul_div_u128(~(u128)0, 1, ~(u128)0) == 1);
	CHECK(mul_div_u128(~(u128)0, 1, 1) == UINT64_MAX);
	CHECK(mul_div_u128(5, 5, 0) == UINT64_MAX);
	CHECK(mul_div_u128((u128)1 << 64, 1, (u128)1 << 64) == 1);
	for (int i = 0; i < 100000; i++) {
		u128 a = ((u128)any_u64() << (next_u64() % 65)) | any_u64();
		u128 c = ((u128)any_u64() << (next_u64() % 65)) | any_u64() | 1;
		u64 b = any_u64(), got = mul_div_u128(a, b, c);
		long double want = (long double)a * b / c;

		if (bits_u128(a) + bits_u128(b) <= 128 && bits_u128(c) <= 64) {
			u128 q = a * b / c;

			CHECK(got == (q > UINT64_MAX ? UINT64_MAX : (u64)q));
		} else if (want >= 0x1p64L) {
			CHECK(got == UINT64_MAX);
		} else {
			/* Cut: within 2^-60 of the quotient, plus one. */
			CHECK(abs_ld((long double)got - want) <= want * 0x1p-60L + 1);
		}
	}
}

/* The record KVM would write for a TSC of hz: mul and shift such that
 * ns = (delta << shift) * mul / 2^32 with mul in [2^31, 2^32). */
static struct pvclock_time record_for(u64 hz, u64 tsc_timestamp, u64 system_time)
{
	struct pvclock_time p = { .tsc_timestamp = tsc_timestamp, .system_time = system_time };
	int shift = 0;
	u64 scaled = hz;

	while (scaled > 2000000000ull) {
		scaled >>= 1;
		shift--;
	}
	while (scaled <= 1000000000ull) {
		scaled <<= 1;
		shift++;
	}
	p.tsc_shift = (s8)shift;
	p.tsc_to_system_mul = (u32)(((u128)1000000000ull << 32) / scaled);
	return p;
}

static void test_pvclock(void)
{
	struct pvclock_time p = record_for(2600000000ull, 1ull << 40, 5000000000ull);
	u64 hz = kvmclock_tsc_hz(&p), ns;

	CHECK(p.tsc_shift == -1 && p.tsc_to_system_mul >= 1u << 31);
	CHECK(hz > 2599999990ull && hz < 2600000010ull);
	/* One second of TSC is one second, to the record's rounding. */
	ns = pvclock_ns_at(&p, p.tsc_timestamp + 2600000000ull);
	CHECK(ns >= 5999999998ull && ns <= 6000000000ull);
	CHECK(pvclock_ns_at(&p, p.tsc_timestamp) == p.system_time);
	/* Behind tsc_timestamp: the clock holds. Taken unsigned, one cycle
	 * behind became a delta of 2^64 - 1, shifted right and scaled to
	 * system_time + 7e18 ns (222 years ahead). */
	CHECK(pvclock_ns_at(&p, p.tsc_timestamp - 1) == p.system_time);
	CHECK(pvclock_ns_at(&p, p.tsc_timestamp - (1ull << 39)) == p.system_time);
	CHECK(pvclock_ns_at(&p, 0) == p.system_time);
	/* The TSC wrapping past 2^64 after the record is a small delta. */
	p = record_for(1000000000ull, UINT64_MAX - 99, 0);
	CHECK(p.tsc_shift == 1);
	ns = pvclock_ns_at(&p, 100);
	CHECK(ns >= 199 && ns <= 200);
	/* A slow TSC (shift > 0) far ahead: (delta << shift) overflowed. */
	p = record_for(300000000ull, 0, 0);
	CHECK(p.tsc_shift == 2);
	CHECK(pvclock_ns_at(&p, 300000000ull) >= 999999999ull &&
	      pvclock_ns_at(&p, 300000000ull) <= 1000000000ull);
	CHECK(pvclock_ns_at(&p, (1ull << 62) + 1) == (u64)(((u128)UINT64_MAX * p.tsc_to_system_mul) >> 32));
	/* system_time near the top saturates instead of wrapping to 0. */
	p = record_for(2600000000ull, 0, UINT64_MAX - 10);
	CHECK(pvclock_ns_at(&p, 1000) == UINT64_MAX);
	/* Shifts a record should never hold: no shift by >= 64 bits. */
	p = record_for(2600000000ull, 0, 0);
	p.tsc_shift = -128;
	CHECK(pvclock_ns_at(&p, 1ull << 62) == 0);
	CHECK(kvmclock_tsc_hz(&p) == UINT64_MAX);
	p.tsc_shift = 127;
	CHECK(pvclock_ns_at(&p, 1) == (u64)(((u128)UINT64_MAX * p.tsc_to_system_mul) >> 32));
	CHECK(pvclock_ns_at(&p, 0) == 0);
	CHECK(kvmclock_tsc_hz(&p) == 0);
	p.tsc_shift = -40;
	CHECK(kvmclock_tsc_hz(&p) == UINT64_MAX);
	p.tsc_shift = 0;
	p.tsc_to_system_mul = 0;
	CHECK(kvmclock_tsc_hz(&p) == 0);
	CHECK(pvclock_ns_at(&p, 12345) == 0);
	p.tsc_to_system_mul = 1;
	CHECK(kvmclock_tsc_hz(&p) == 4294967296000000000ull);
}

static struct cal_sample samples[CAL_MAX_SAMPLES];

/* A re-base's step (pvclock_step_ns), and the calibration's fit over
 * kvm-clock samples placed at the TSC each read converted. */
static void test_pvclock_rebase(void)
{
	struct pvclock_time old = record_for(2596148000ull, 1ull << 40, 7000000000ull), p = old;
	struct clocksource kc = { .name = "kvmclock", .mask = ~0ull, .freq_hz = 1000000000 };
	struct cal_result r = { .cs = &kc };
	u64 t = old.tsc_timestamp + 2596148000ull;

	/* A master clock update that continues the clock: a later base on
	 * the old line, the same scale: no step but the ns rounding. */
	p.tsc_timestamp = old.tsc_timestamp + 1298074000ull;
	p.system_time = pvclock_ns_at(&old, p.tsc_timestamp);
	CHECK(pvclock_step_ns(&old, &p, t) >= -1 && pvclock_step_ns(&old, &p, t) <= 1);
	/* The host clock 1000 ns ahead of the old record's line. */
	p.system_time += 1000;
	CHECK(pvclock_step_ns(&old, &p, t) >= 999 && pvclock_step_ns(&old, &p, t) <= 1001);
	/* A new scale 1 kHz slower: 1 s after the base, 385 ns more. */
	p = record_for(2596147000ull, old.tsc_timestamp, old.system_time);
	CHECK(pvclock_step_ns(&old, &p, t) >= 384 && pvclock_step_ns(&old, &p, t) <= 386);
	/* A reading behind the new base: the new clock holds there. */
	p = old;
	p.tsc_timestamp = t + 1000;
	p.system_time = pvclock_ns_at(&old, t);
	CHECK(pvclock_step_ns(&old, &p, t) == 0);
	/* The extremes clamp rather than wrap. */
	p = old;
	p.system_time = UINT64_MAX - 10;
	old.system_time = 0;
	CHECK(pvclock_step_ns(&old, &p, t) == INT64_MAX);
	CHECK(pvclock_step_ns(&p, &old, t) == -INT64_MAX);
	/* Samples at the TSC each read converted, whatever the bracket:
	 * the fit is the record's own rate, to a ppb. */
	old = record_for(2596148000ull, 1ull << 40, 7000000000ull);
	for (int i = 0; i < 100; i++) {
		u64 x = old.tsc_timestamp + (u64)i * 2596148ull + next_u64() % 1000;

		samples[i] = (struct cal_sample){ x, pvclock_ns_at(&old, x),
			(u32)(135000 + next_u64() % 200000) };
	}
	cal_estimate(&r, samples, 100);
	CHECK(r.status == 0);
	CHECK(ppb_diff(r.tsc_hz, kvmclock_tsc_hz(&old)) >= -1 &&
	      ppb_diff(r.tsc_hz, kvmclock_tsc_hz(&old)) <= 1);
	CHECK(r.unc_ppb <= 10);
}

/*
 * n samples over span_ms of a TSC at tsc_hz against reference cs,
 * read through the wrap extender as the calibration reads it. Each read
 * lands uniformly inside a bracket of width w cycles around x; jitter
 * moves x (as a read delayed inside its bracket) by up to +-jitter cycles.
 * Returns the number of wraps the extender saw.
 */
static u64 make_samples(const struct clocksource *cs, u64 tsc_hz, u64 span_ms, int n, u32 w,
			u64 jitter)
{
	struct cs_extender e;
	u64 x0 = 1ull << 50, ticks = span_ms * (tsc_hz / 1000);

	for (int i = 0; i < n; i++) {
		u64 x = x0 + (u64)((u128)ticks * (u64)i / (u64)(n - 1));
		u64 at = x - w / 2 + next_u64() % (w + 1ull);
		u64 raw = (u64)((u128)at * cs->freq_hz / tsc_hz) & cs->mask;

		if (jitter)
			x += next_u64() % (2 * jitter + 1) - jitter;
		if (i == 0)
			cs_extend_start(&e, raw);
		samples[i] = (struct cal_sample){ x, cs_extend(&e, cs, raw), w };
	}
	return e.wraps;
}

/*
 * The statistical 1-sigma uncertainty of the two-group estimate over
 * samples[0..n), in long double: the residual scatter about the line
 * through the means, sigma sqrt(1/n0 + 1/n1) / (mean x1 - mean x0).
 */
static long double reference_unc_ppb(int n, long double ref_hz)
{
	long double mx[2] = { 0, 0 }, my[2] = { 0, 0 }, cnt[2] = { 0, 0 }, mean_x = 0, mean_y = 0;
	long double ssq = 0, hz, dx;

	for (int i = 0; i < n; i++) {
		int g = i < n / 2 ? 0 : 1;

		mx[g] += samples[i].x - samples[0].x;
		my[g] += samples[i].y - samples[0].y;
		cnt[g]++;
	}
	mean_x = (mx[0] + mx[1]) / n;
	mean_y = (my[0] + my[1]) / n;
	dx = mx[1] / cnt[1] - mx[0] / cnt[0];
	hz = ref_hz * dx / (my[1] / cnt[1] - my[0] / cnt[0]);
	for (int i = 0; i < n; i++) {
		long double r = (samples[i].x - samples[0].x - mean_x) -
				(samples[i].y - samples[0].y - mean_y) * hz / ref_hz;

		ssq += r * r;
	}
	return sqrt_ld(ssq / (n - 2)) * sqrt_ld(1 / cnt[0] + 1 / cnt[1]) / dx * 1e9L;
}

static void test_calfit(void)
{
	struct clocksource pm32 = { .name = "pm", .mask = 0xFFFFFFFFull, .freq_hz = 3579545 };
	struct clocksource pm24 = { .name = "pm", .mask = 0xFFFFFFull, .freq_hz = 3579545 };
	struct clocksource hpet = { .name = "hpet", .mask = ~0ull, .freq_hz = 100000000 };
	struct clocksource rtc = { .name = "rtc", .mask = ~0ull, .freq_hz = 2, .flags = CS_EVENTS };
	struct cal_result r = { .cs = &pm32 };
	long double ref;

	/* 1200 s at 5 GHz against a 32-bit PM timer: it wraps once (every
	 * 1199.86 s), and the group sums times the group sizes reach 2^64.6. */
	CHECK(make_samples(&pm32, 5000000000ull, 1200000, CAL_MAX_SAMPLES, 3000, 0) == 1);
	cal_estimate(&r, samples, CAL_MAX_SAMPLES);
	CHECK(r.status == 0 && r.kept == CAL_MAX_SAMPLES);
	CHECK(r.tsc_hz >= 4999999999ull && r.tsc_hz <= 5000000001ull);
	CHECK(r.unc_ppb <= 1);
	CHECK(r.span_cycles == 6000000000000ull);
	/* The same against a 64-bit HPET, with reads delayed by up to 1 ms. */
	r = (struct cal_result){ .cs = &hpet };
	make_samples(&hpet, 5000000000ull, 1200000, CAL_MAX_SAMPLES, 3000, 5000000);
	cal_estimate(&r, samples, CAL_MAX_SAMPLES);
	ref = reference_unc_ppb(CAL_MAX_SAMPLES, 1e8L);
	CHECK(r.status == 0);
	CHECK(llabs(ppb_diff(r.tsc_hz, 5000000000ull)) <= (s64)(5 * ref) + 1);
	CHECK(r.unc_ppb + 1 >= (u64)ref);
	/* A 2 Hz event source over 1200 s at 5 GHz, each event seen up to
	 * 0.3 s off: residuals of 1.5e9 cycles, whose squares summed over
	 * the window reach 2^72. */
	r = (struct cal_result){ .cs = &rtc };
	make_samples(&rtc, 5000000000ull, 1200000, 2401, 1, 1500000000ull);
	cal_estimate(&r, samples, 2401);
	ref = reference_unc_ppb(2401, 2.0L);
	CHECK(r.status == 0 && r.kept == 2401);
	CHECK(r.unc_ppb + 1 >= (u64)ref && r.unc_ppb <= (u64)(4 * ref));
	CHECK(llabs(ppb_diff(r.tsc_hz, 5000000000ull)) <= 5 * (s64)r.unc_ppb);
	/* The same with every other event 0.24 s early and the rest as late:
	 * every jackknife block sees the same line, so only the scatter
	 * states the uncertainty (the sum of squares wrapped in 64 bits and
	 * the stated uncertainty came out far too small). */
	r = (struct cal_result){ .cs = &rtc };
	make_samples(&rtc, 5000000000ull, 1200000, 2401, 1, 0);
	for (int i = 0; i < 2401; i++)
		samples[i].x += i % 2 ? -1200000000ll : 1200000000ll;
	cal_estimate(&r, samples, 2401);
	ref = reference_unc_ppb(2401, 2.0L);
	CHECK(r.status == 0 && r.kept == 2401);
	CHECK(r.unc_ppb + 1 >= (u64)ref && r.unc_ppb <= (u64)(1.01L * ref) + 1);
	CHECK(llabs(ppb_diff(r.tsc_hz, 5000000000ull)) <= 5 * (s64)r.unc_ppb);
	/* The ordinary case still comes out exact: 100 ms at 2.6 GHz against
	 * a 24-bit PM timer, brackets of 2000 cycles. */
	r = (struct cal_result){ .cs = &pm24 };
	make_samples(&pm24, 2600000000ull, 100, 3000, 2000, 0);
	cal_estimate(&r, samples, 3000);
	CHECK(r.status == 0);
	CHECK(llabs(ppb_diff(r.tsc_hz, 2600000000ull)) <= 3 * (s64)r.unc_ppb + 10);
	CHECK(r.unc_ppb < 1000);
}

/* Wild input: any x and y (sorted), any widths. Nothing may overflow (UBSan
 * aborts on signed overflow and shifts past the width), and a result
 * marked usable must have kept enough samples. */
static void test_calfit_wild(void)
{
	struct clocksource cs = { .name = "wild", .mask = ~0ull };

	for (int t = 0; t < 300; t++) {
		struct cal_result r = { .cs = &cs };
		int n = CAL_MIN_SAMPLES + (int)(next_u64() % (CAL_MAX_SAMPLES - CAL_MIN_SAMPLES + 1));
		u64 x = any_u64(), y = any_u64(), dxmax = any_u64() >> 12, dymax = any_u64() >> 12;

		cs.freq_hz = any_u64() | 1;
		cs.flags = (u32[]){ 0, CS_EVENTS, CS_WIDTH_FIT }[next_u64() % 3];
		for (int i = 0; i < n; i++) {
			x += dxmax ? next_u64() % dxmax : 0;
			y += dymax ? next_u64() % dymax : 0;
			samples[i] = (struct cal_sample){ x, y, (u32)next_u64() };
		}
		if (t % 3 == 0)	/* a step: one block far off the line */
			for (int i = n - n / 8; i < n; i++)
				samples[i].y += 1ull << 60;
		cal_estimate(&r, samples, (u64)n);
		CHECK(r.status == 0 ? r.kept >= CAL_MIN_SAMPLES : r.status == -EIO);
	}
}

/*
 * 100 ms at 2.6 GHz of a LAPIC count at 62.5 MHz read through an exit of
 * 53,000 cycles plus an extra, of which 0.8 comes before the count is
 * taken (the read sits 0.3 of the extra past the bracket's middle, as
 * measured under kvm_pvm); the extras are random up to 6000 cycles, and
 * with drift they grow by up to another drift cycles through the
 * window. Returns the true rate's TSC cycles per second.
 */
static u64 make_exit_samples(const struct clocksource *cs, int n, u64 drift)
{
	u64 tsc_hz = 2600000000ull, x0 = 1ull << 40, span = tsc_hz / 10;

	for (int i = 0; i < n; i++) {
		u64 read = x0 + span * (u64)i / (u64)(n - 1) + next_u64() % 200;
		u64 extra = next_u64() % 6000 + drift * (u64)i / (u64)(n - 1);
		u64 a = read - 26500 - extra * 8 / 10, w = 53000 + extra;

		samples[i] = (struct cal_sample){ a + w / 2, (u64)((u128)read * cs->freq_hz / tsc_hz),
			(u32)w };
	}
	return tsc_hz;
}

/* The read's place in a trapped read's bracket, fitted (CS_WIDTH_FIT). */
static void test_calfit_width(void)
{
	struct clocksource lapic = { .name = "lapic", .freq_hz = 62500000, .mask = ~0ull,
				     .flags = CS_EXITS };
	struct cal_result r = { .cs = &lapic }, plain;
	u64 hz = make_exit_samples(&lapic, 300, 4000);

	/* Widths that grow through the window tilt the middles' line by
	 * 0.3 x 4000 cycles in 0.1 s, 4.6 ppm, which neither the scatter
	 * nor the jackknife sees (every block lies on the same tilted line). */
	cal_estimate(&r, samples, 300);
	CHECK(r.status == 0 && r.width_beta == 0);
	CHECK(llabs(ppb_diff(r.tsc_hz, hz)) > 3 * (s64)r.unc_ppb);
	/* Fitted with the width as a second term, the rate is right within
	 * what it states, and the read's place comes out as made. */
	lapic.flags |= CS_WIDTH_FIT;
	r = (struct cal_result){ .cs = &lapic };
	cal_estimate(&r, samples, 300);
	CHECK(r.status == 0);
	CHECK(llabs(ppb_diff(r.tsc_hz, hz)) <= 3 * (s64)r.unc_ppb);
	CHECK(r.width_beta >= CAL_WIDTH_ONE * 25 / 100 && r.width_beta <= CAL_WIDTH_ONE * 35 / 100);
	CHECK(r.width_unc_ppb > 0 && r.width_unc_ppb < r.unc_ppb);
	CHECK(!cal_lopsided(&r) && r.gap_max < r.span_cycles / 100);
	/* The vCPU away for most of the window in one piece: 16 samples in
	 * its first 5 ms, one at its end (seen under load, calfit.h). */
	for (int i = 16; i < 300; i++)
		samples[i] = samples[299];
	cal_estimate(&r, samples, 17);
	CHECK(r.status == 0 && cal_lopsided(&r));
	CHECK(r.gap_max > r.span_cycles / 10 * 9);
	make_exit_samples(&lapic, 300, 4000);
	/* Brackets all as wide (TCG): nothing to fit, the same result. */
	for (int i = 0; i < 300; i++)
		samples[i].w = 40;
	lapic.flags &= ~CS_WIDTH_FIT;
	plain = (struct cal_result){ .cs = &lapic };
	cal_estimate(&plain, samples, 300);
	lapic.flags |= CS_WIDTH_FIT;
	r = (struct cal_result){ .cs = &lapic };
	cal_estimate(&r, samples, 300);
	CHECK(r.status == 0 && r.width_beta == 0 && r.width_unc_ppb == 0);
	CHECK(r.tsc_hz == plain.tsc_hz && r.unc_ppb == plain.unc_ppb);
}

int main(void)
{
	test_mul_div();
	test_ppb();
	test_sqrt();
	test_mul_div_u128();
	test_pvclock();
	test_pvclock_rebase();
	test_calfit();
	test_calfit_wild();
	test_calfit_width();
	return check_report("test_overflow");
}

/* The lower-envelope fit (lib/fit.c) on the host: exact lines, late
 * points, lost events, a planted rate error, and its extremes. It must
 * use only HOST_LIB code (ASan/UBSan build). */
#include "tests/host/check.h"
#include "lib/fit.h"
#include "lib/math.h"

#define N 4096

static u64 k[N], t[N], scratch[N];

/* A deterministic generator for delivery delays. */
static u64 seed = 7;
static u64 next_rand(void)
{
	seed = seed * 6364136223846793005ull + 1442695040888963407ull;
	return seed >> 33;
}

static void test_exact_line(void)
{
	struct envelope e;

	for (u64 i = 0; i < 50; i++) {
		k[i] = i;
		t[i] = 1000000 + 4000000 * i;
	}
	CHECK(envelope_fit(k, t, 50, scratch, &e) == 0);
	CHECK((e.tb - e.ta) == 4000000 * (e.kb - e.ka));
	CHECK(envelope_rate(&e, 1000000000, 1000) == 250000);
	CHECK(e.unc_ppb == 0);
	CHECK(e.lag_p50 == 0);
}

/* Late points above a floor: the envelope is the floor when some points
 * in every part of the window sit on it, whatever the others do. */
static void test_late_points(void)
{
	struct envelope e;

	for (u64 i = 0; i < 200; i++) {
		k[i] = i;
		t[i] = 5000 + 4000000 * i + (i % 10 == 3 ? 0 : 1000 + next_rand() % 3000000);
	}
	CHECK(envelope_fit(k, t, 200, scratch, &e) == 0);
	CHECK(envelope_rate(&e, 1000000000, 1000) == 250000);
	CHECK((e.tb - e.ta) == 4000000 * (e.kb - e.ka));
	CHECK(e.lag_p50 > 1000);
	/* A least-squares or endpoint estimate would be off by up to
	 * 3 ms / 800 ms here; the envelope is exact. */
}

/* A planted rate error of 100 ppm is found within its uncertainty. */
static void test_planted_error(void)
{
	struct envelope e;
	u64 mhz;

	for (u64 i = 0; i < 250; i++) {
		k[i] = i;
		/* period 4000.4 us: 249.975 Hz */
		t[i] = 4000400 * i + next_rand() % 20000;
	}
	CHECK(envelope_fit(k, t, 250, scratch, &e) == 0);
	mhz = envelope_rate(&e, 1000000000, 1000);
	CHECK(mhz >= 249974 && mhz <= 249976);
	CHECK(e.unc_ppb > 0 && e.unc_ppb < 100000);
}

/* A floor that steps up halfway (the host got busier) tilts the
 * envelope; the stated uncertainty must cover the error it causes. */
static void test_floor_steps(void)
{
	struct envelope e;
	s64 err_ppb;

	for (u64 i = 0; i < 500; i++) {
		k[i] = i;
		t[i] = 4000000 * i + (i >= 250 ? 30000 : 0) + next_rand() % 50000;
	}
	CHECK(envelope_fit(k, t, 500, scratch, &e) == 0);
	err_ppb = ppb_diff((e.tb - e.ta) * 1000 / (e.kb - e.ka), 4000000000ull);
	CHECK(err_ppb != 0);
	CHECK(e.floor_max >= 10000);
	CHECK((u64)(err_ppb < 0 ? -err_ppb : err_ppb) <= 3 * e.unc_ppb);
}

/* Lost events leave gaps in k; they do not bias the envelope. */
static void test_gaps(void)
{
	struct envelope e;
	u64 n = 0;

	for (u64 i = 0; i < 100; i++) {
		if (i % 7 == 2 || (i > 40 && i < 55))
			continue;
		k[n] = i;
		t[n++] = 3 + 15625000 * i + (i % 5 ? 4000 : 0);
	}
	CHECK(envelope_fit(k, t, n, scratch, &e) == 0);
	CHECK(envelope_rate(&e, 1000000000, 1000) == 64000);
}

/* Sightings late by up to 0.9 of a period, some events missed: each is
 * numbered by the last event before it, never the next one. */
static void test_grid_place(void)
{
	static u64 kk[N];
	u64 n = 0, P = 3906250;

	for (u64 i = 0; i < 300; i++) {
		if (i % 11 == 5)
			continue;
		k[n] = i;
		/* on time every 7th, else late by up to 0.9 P */
		t[n++] = 1000000000000ull + 123456 + i * P + (i % 7 ? next_rand() % (P * 9 / 10) : 0);
	}
	/* Late by up to 0.9 P: the spread says the numbering is ambiguous. */
	CHECK(grid_place(t, n, P, kk, scratch) >= P / 2);
	for (u64 i = 0; i < n; i++)
		CHECK(kk[i] - kk[0] == k[i] - k[0]);
	/* The first sighting late: still numbered by its own event. */
	t[0] += P / 2;
	grid_place(t, n, P, kk, scratch);
	CHECK(kk[1] - kk[0] == k[1] - k[0]);
	CHECK(kk[n - 1] - kk[0] == k[n - 1] - k[0]);
}

/* Sightings late by at most a tenth of a period: not ambiguous. */
static void test_grid_tight(void)
{
	static u64 kk[N];
	u64 P = 1000000;

	for (u64 i = 0; i < 100; i++)
		t[i] = 5000 + i * P + next_rand() % (P / 10);
	CHECK(grid_place(t, 100, P, kk, scratch) < P / 10);
	CHECK(kk[99] - kk[0] == 99);
}

static void test_invalid(void)
{
	struct envelope e;

	k[0] = 0, k[1] = 1, k[2] = 1;
	t[0] = 0, t[1] = 10, t[2] = 20;
	CHECK(envelope_fit(k, t, 2, scratch, &e) == -EINVAL);	/* too few */
	CHECK(envelope_fit(k, t, 3, scratch, &e) == -EINVAL);	/* k repeats */
	k[2] = 2;
	t[0] = 20, t[1] = 10, t[2] = 0;
	CHECK(envelope_fit(k, t, 3, scratch, &e) == -EINVAL);	/* falls */
	t[0] = 5, t[1] = 5, t[2] = 5;
	CHECK(envelope_fit(k, t, 3, scratch, &e) == -EINVAL);	/* flat */
	k[1] = 1ull << 31;
	k[2] = (1ull << 31) + 1;
	CHECK(envelope_fit(k, t, 3, scratch, &e) == -EINVAL);	/* k too far */
}

/* The extremes the header promises: t differences near 2^62, k near
 * 2^31, timestamps that start near the top of u64, and many points. */
static void test_extremes(void)
{
	struct envelope e;
	u64 period = (1ull << 62) / ((1ull << 31) - 1);

	k[0] = 0, k[1] = 1, k[2] = (1ull << 31) - 1;
	t[0] = 0, t[1] = period, t[2] = period * k[2];
	CHECK(envelope_fit(k, t, 3, scratch, &e) == 0);
	CHECK(e.ka == 0 && e.kb == k[2] && e.tb - e.ta == period * k[2]);
	CHECK(envelope_rate(&e, period, 1000) == 1000);
	/* Wrapping u64 timestamps: differences are what count. */
	for (u64 i = 0; i < N; i++) {
		k[i] = i * 3;
		t[i] = UINT64_MAX - 1000000 + 2596148 * i + (i & 1) * 17;
	}
	CHECK(envelope_fit(k, t, N, scratch, &e) == 0);
	CHECK(e.tb - e.ta == 2596148 * (e.kb - e.ka) / 3);
	CHECK(e.unc_ppb == 0);
	CHECK(e.hull >= 2);
}

/* envelope_trend_ppb: the bulk of the delays against the floor. A
 * constant delay and a rate error do not count; the bulk leaving the
 * floor does; its own noise is stated. */
static void test_trend(void)
{
	const u64 period = 4000000, n = 75, d = 1000000;
	struct envelope e;
	u64 base, planted;

	/* Every fifth tick on the floor, the rest 1 ms late: a constant
	 * delay, no trend (the medians of both thirds are 1 ms, tight). */
	for (u64 i = 0; i < n; i++) {
		k[i] = i;
		t[i] = 1000 + period * i + (i % 5 ? d : 0);
	}
	CHECK(envelope_fit(k, t, n, scratch, &e) == 0);
	CHECK(e.tb - e.ta == period * (e.kb - e.ka));
	CHECK(envelope_trend_ppb(k, t, n, &e, scratch) == 0);
	CHECK(e.lag_p50 == d);	/* what the median term charged: 1 ms over 0.3 s */
	/* Jitter about that delay (0..200 us): the trend is the medians'
	 * noise, well under the median's height over the span. */
	seed = 11;
	for (u64 i = 0; i < n; i++)
		t[i] = 1000 + period * i + (i % 5 ? d + next_rand() % 200000 : 0);
	CHECK(envelope_fit(k, t, n, scratch, &e) == 0);
	base = envelope_trend_ppb(k, t, n, &e, scratch);
	CHECK(base > 0 && base < mul_div_u64(e.lag_p50, 1000000000ull, t[n - 1] - t[0]) / 4);
	/* The same ticks 1000 ppm slow (plant_rate=): the trend is the same
	 * to rounding (both thirds sit above the same tilted line). */
	for (u64 i = 1; i < n; i++)
		t[i] += mul_div_u64(t[i] - t[0], 1000, 1000000);
	CHECK(envelope_fit(k, t, n, scratch, &e) == 0);
	planted = envelope_trend_ppb(k, t, n, &e, scratch);
	CHECK(planted + 2000 >= base && planted <= base + 2000);
	/* The bulk moving 300 us away from the floor: the trend sees the
	 * 200 us the thirds' middles lie apart over their 200 ms (1000 ppm),
	 * as it must: where no tick sat on it, the floor could have moved
	 * with the bulk and tilted the envelope. */
	for (u64 i = 0; i < n; i++)
		t[i] = 1000 + period * i + (i % 5 ? d + 300000 * i / (n - 1) : 0);
	CHECK(envelope_fit(k, t, n, scratch, &e) == 0);
	CHECK(e.tb - e.ta == period * (e.kb - e.ka));
	CHECK(envelope_trend_ppb(k, t, n, &e, scratch) >= 1000000);
	/* Too few points for thirds: the largest height over the span. */
	k[0] = 0, k[1] = 1, k[2] = 2, k[3] = 3;
	t[0] = 0, t[1] = period + 500, t[2] = 2 * period, t[3] = 3 * period;
	CHECK(envelope_fit(k, t, 4, scratch, &e) == 0);
	CHECK(envelope_trend_ppb(k, t, 4, &e, scratch) == mul_div_u64(500, 1000000000ull, 3 * period));
	CHECK(envelope_trend_ppb(k, t, 1, &e, scratch) == UINT64_MAX);
	/* Extremes: wrapping timestamps, heights near 2^40 cycles, 4096
	 * points: no overflow (UBSan), a finite answer. */
	for (u64 i = 0; i < N; i++) {
		k[i] = i;
		t[i] = UINT64_MAX - 1000000 + (1ull << 44) * i + (i % 3 ? (1ull << 40) * (i % 7) : 0);
	}
	CHECK(envelope_fit(k, t, N, scratch, &e) == 0);
	CHECK(envelope_trend_ppb(k, t, N, &e, scratch) < UINT64_MAX);
}

int main(void)
{
	test_exact_line();
	test_late_points();
	test_planted_error();
	test_floor_steps();
	test_gaps();
	test_grid_place();
	test_grid_tight();
	test_invalid();
	test_extremes();
	test_trend();
	return check_report("test_fit");
}

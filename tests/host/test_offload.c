/* The offload hook (lib/offload.c) and the pure functions that go through
 * it on the host: with a runner registered they must give the same results
 * as called directly (their arguments and results cross by a job struct),
 * the runner must be used where the kernel would use it, and not for a
 * handful of samples. It must use only HOST_LIB code (ASan/UBSan build). */
#include "tests/host/check.h"
#include "lib/fit.h"
#include "lib/offload.h"
#include "lib/printf.h"
#include "lib/stats.h"
#include "measure/calfit.h"

#define N 600

static int trips;

static u64 counting_runner(offload_fn fn, void *arg)
{
	trips++;
	return fn(arg);
}

static u64 seed = 11;
static u64 next_rand(void)
{
	seed = seed * 6364136223846793005ull + 1442695040888963407ull;
	return seed >> 33;
}

static u64 twice(void *arg)
{
	return 2 * *(u64 *)arg;
}

static void test_hook(void)
{
	u64 v = 21;

	offload_set(NULL);
	trips = 0;
	CHECK(offload(twice, &v) == 42 && trips == 0);
	offload_set(counting_runner);
	CHECK(offload(twice, &v) == 42 && trips == 1);
	offload_set(NULL);
}

/* summarize and sort_u64 through the runner and directly, over the same
 * samples; the runner only from 16 samples on. */
static void test_stats(void)
{
	static u64 a[N], b[N], c[N];
	struct summary sa, sb;

	for (size_t n = 1; n <= N; n += 37) {
		for (size_t i = 0; i < n; i++)
			a[i] = b[i] = c[i] = next_rand() % 1000;
		offload_set(NULL);
		summarize(a, n, &sa);
		offload_set(counting_runner);
		trips = 0;
		summarize(b, n, &sb);
		CHECK(trips == (n >= 16));
		CHECK(sa.n == sb.n && sa.min == sb.min && sa.p50 == sb.p50 && sa.p90 == sb.p90 &&
		      sa.p99 == sb.p99 && sa.max == sb.max);
		sort_u64(c, n);
		for (size_t i = 1; i < n; i++)
			CHECK(c[i - 1] <= c[i]);
		CHECK(c[0] == sa.min && c[n - 1] == sa.max && c[50 * (n - 1) / 100] == sa.p50);
	}
	offload_set(NULL);
}

/* envelope_fit's status (negative) and grid_place's result cross intact. */
static void test_fits(void)
{
	static u64 k[N], t[N], k2[N], scratch[N];
	struct envelope ea, eb;
	u64 period = 4000000;

	for (u64 i = 0; i < N; i++)
		t[i] = 1000 + period * i + next_rand() % 50000;
	offload_set(NULL);
	u64 sa = grid_place(t, N, period, k, scratch);
	int ra = envelope_fit(k, t, N, scratch, &ea);
	offload_set(counting_runner);
	trips = 0;
	u64 sb = grid_place(t, N, period, k2, scratch);
	int rb = envelope_fit(k2, t, N, scratch, &eb);
	/* grid_place sorts through the runner too (on the host nothing tells
	 * a nested trip apart): at least one trip each. */
	CHECK(trips >= 2 && sa == sb && ra == 0 && rb == 0);
	CHECK(memcmp(k, k2, sizeof(k)) == 0);
	CHECK(ea.ka == eb.ka && ea.kb == eb.kb && ea.ta == eb.ta && ea.tb == eb.tb &&
	      ea.unc_ppb == eb.unc_ppb && ea.lag_p50 == eb.lag_p50);
	/* Too few points: -EINVAL through the u64 the runner returns. */
	CHECK(envelope_fit(k, t, 1, scratch, &eb) == -EINVAL);
	offload_set(NULL);
}

static u64 read_none(struct clocksource *cs)
{
	(void)cs;
	return 0;
}

/* The calibration fit through the runner: the same result. */
static void test_cal_estimate(void)
{
	static struct cal_sample s[N];
	struct clocksource hpet = { .name = "hpet", .read = read_none, .mask = ~0ull,
				    .freq_hz = 100000000 };
	struct cal_result ra = { .cs = &hpet }, rb = { .cs = &hpet };

	for (u64 i = 0; i < N; i++) {
		u64 w = 40000 + next_rand() % 20000;

		s[i].x = 5000000 + i * 433333 + w / 2;
		s[i].y = (s[i].x * 10 + next_rand() % 300) / 26;
		s[i].w = (u32)w;
	}
	offload_set(NULL);
	cal_estimate(&ra, s, N);
	offload_set(counting_runner);
	trips = 0;
	cal_estimate(&rb, s, N);
	CHECK(trips >= 1 && ra.status == 0 && rb.status == 0);
	CHECK(ra.tsc_hz == rb.tsc_hz && ra.unc_ppb == rb.unc_ppb && ra.kept == rb.kept &&
	      ra.rejected == rb.rejected && ra.span_cycles == rb.span_cycles);
	offload_set(NULL);
}

/* printf and fx through the runner. */
static void test_printf(void)
{
	char a[64], b[64], fa[32], fb[32];

	offload_set(NULL);
	int na = snprintf_(a, sizeof(a), "%s=%5lu|%-4d|%x", "name", 12345ul, -7, 0xbeefu);
	fx(fa, sizeof(fa), -1234567, 3);
	offload_set(counting_runner);
	trips = 0;
	int nb = snprintf_(b, sizeof(b), "%s=%5lu|%-4d|%x", "name", 12345ul, -7, 0xbeefu);
	fx(fb, sizeof(fb), -1234567, 3);
	CHECK(trips == 2 && na == nb);
	CHECK_STR(b, a);
	CHECK_STR(fb, "-1234.567");
	CHECK_STR(fb, fa);
	offload_set(NULL);
}

int main(void)
{
	test_hook();
	test_stats();
	test_fits();
	test_cal_estimate();
	test_printf();
	return check_report("offload");
}

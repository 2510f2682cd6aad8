/* Overflow edges, on the host under UBSan: the 64-bit helpers of lib/math.h
 * at their limits and kvm-clock's scaling when the TSC is behind the
 * record. It must use only HOST_LIB code (ASan/UBSan build);
 * the references here are computed in 128-bit integers or long double. */
#include "tests/host/check.h"
#include "drivers/kvmclock.h"
#include "lib/math.h"

static u64 rng = 0x9e3779b97f4a7c15ull;

/* splitmix64: deterministic, so a failure reproduces. */
static u64 next_u64(void)
{
	u64 z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* fabs in long double, without libm. */
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

int main(void)
{
	test_mul_div();
	test_ppb();
	test_sqrt();
	test_mul_div_u128();
	test_pvclock();
	return check_report("test_overflow");
}

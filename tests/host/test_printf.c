/* printf, fixed-point, string helpers and statistics on the host. It must
 * use only HOST_LIB code (ASan/UBSan build). */
#include "tests/host/check.h"
#include "lib/printf.h"
#include "lib/stats.h"
#include "lib/str.h"
#include "lib/math.h"

static const char *f(const char *fmt, ...) PRINTF_FMT(1, 2);
static const char *f(const char *fmt, ...)
{
	static char buf[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf_(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return buf;
}

static void test_printf(void)
{
	char small[5];

	CHECK_STR(f("%d %i %u", -42, 7, 3000000000u), "-42 7 3000000000");
	CHECK_STR(f("%ld", (s64)INT64_MIN), "-9223372036854775808");
	CHECK_STR(f("%lu", (u64)UINT64_MAX), "18446744073709551615");
	CHECK_STR(f("%lx %X %x", (u64)0xDEADBEEFCAFEull, 0xABCu, 0u), "deadbeefcafe ABC 0");
	CHECK_STR(f("%016lx", (u64)0x1234), "0000000000001234");
	CHECK_STR(f("[%5d][%-5d][%05d]", 42, 42, -42), "[   42][42   ][-0042]");
	CHECK_STR(f("[%-8s][%8s][%.3s]", "ab", "cd", "abcdef"), "[ab      ][      cd][abc]");
	{
		const char *volatile null = NULL;	/* hide it from -Wformat */

		CHECK_STR(f("%s %c%%", null, 'x'), "(null) x%");
	}
	CHECK_STR(f("%*d|%-*d|%.*s", 4, 1, 3, 2, 2, "xyz"), "   1|2  |xy");
	CHECK_STR(f("%zu", (size_t)12345), "12345");
	CHECK_STR(f("%p", (void *)0x1000), "0x1000");
	{
		const char *volatile bad = "%q";	/* unknown conversion */

		CHECK_STR(f(bad), "%q");
	}
	/* Truncation keeps the terminator and reports the full length. */
	CHECK(snprintf_(small, sizeof(small), "%s", "abcdefgh") == 8);
	CHECK_STR(small, "abcd");
	CHECK(snprintf_(NULL, 0, "%d", 12345) == 5);
}

static void test_fx(void)
{
	char b[32];

	CHECK_STR(fx(b, sizeof(b), -9, 1), "-0.9");
	CHECK_STR(fx(b, sizeof(b), 50000, 3), "50");
	CHECK_STR(fx(b, sizeof(b), 25961317, 1), "2596131.7");
	CHECK_STR(fx(b, sizeof(b), 1005, 3), "1.005");
	CHECK_STR(fx(b, sizeof(b), 0, 3), "0");
	CHECK_STR(fx(b, sizeof(b), -1000, 3), "-1");
	CHECK_STR(fx(b, sizeof(b), 7, 0), "7");
	CHECK_STR(fx(b, sizeof(b), INT64_MIN, 3), "-9223372036854775.808");
	CHECK_STR(fx(b, sizeof(b), 5, 12), "0.000000005"); /* decimals clamp to 9 */
}

static void test_str(void)
{
	u64 v;

	CHECK(glob_match("irq.*", "irq.self_ipi"));
	CHECK(glob_match("*ipi", "irq.self_ipi"));
	CHECK(glob_match("i?q.*_ipi", "irq.self_ipi"));
	CHECK(!glob_match("irq", "irq.self_ipi"));
	CHECK(glob_match("*", ""));
	CHECK(!glob_match("a*b*c", "aXbXd"));
	CHECK(glob_match("a*b*c", "aXbXbXc"));
	CHECK(parse_u64("123", 3, &v) && v == 123);
	CHECK(parse_u64("0x1F", 4, &v) && v == 31);
	CHECK(!parse_u64("", 0, &v));
	CHECK(!parse_u64("0x", 2, &v));
	CHECK(!parse_u64("12a", 3, &v));
	CHECK(!parse_u64("18446744073709551616", 20, &v));
	CHECK(parse_u64("18446744073709551615", 20, &v) && v == UINT64_MAX);
}

static void test_stats_math(void)
{
	u64 v[101];
	struct summary s;

	for (int i = 0; i < 101; i++)
		v[i] = (u64)((i * 37) % 101);	/* a permutation of 0..100 */
	summarize(v, 101, &s);
	CHECK(s.min == 0 && s.max == 100 && s.p50 == 50 && s.p99 == 99 && s.p90 == 90);
	sort_u64(v, 101);
	for (int i = 1; i < 101; i++)
		CHECK(v[i - 1] <= v[i]);
	/* summarize selects: the same ranks a sort gives, on every size and
	 * on inputs full of ties. */
	for (size_t n = 1; n <= 300; n++) {
		u64 a[300], b[300];
		struct summary t;

		for (size_t i = 0; i < n; i++)
			a[i] = b[i] = (u64)((i * 7919 + n * 31) % (n % 3 ? n : 5));
		summarize(a, n, &t);
		sort_u64(b, n);
		CHECK(t.n == n && t.min == b[0] && t.max == b[n - 1]);
		CHECK(t.p50 == b[50 * (n - 1) / 100] && t.p90 == b[90 * (n - 1) / 100] &&
		      t.p99 == b[99 * (n - 1) / 100]);
	}
	for (int k = 0; k < 101; k += 7) {
		u64 w[101];

		for (int i = 0; i < 101; i++)
			w[i] = (u64)((i * 37) % 101);
		CHECK(select_u64(w, 101, (size_t)k) == (u64)k);
	}
	{
		u64 same[5] = { 3, 3, 3, 3, 3 }, two[2] = { 9, 1 };

		CHECK(select_u64(same, 5, 2) == 3);
		CHECK(select_u64(two, 2, 0) == 1 && select_u64(two, 2, 1) == 9);
	}
	summarize(v, 0, &s);
	CHECK(s.n == 0 && s.max == 0);
	CHECK(mul_div_u64(3000000000ull, 1000000000ull, 1000000ull) == 3000000000000ull);
	CHECK(mul_div_u64(UINT64_MAX, 2, 1) == UINT64_MAX);	/* saturates */
	CHECK(mul_div_u64(5, 5, 0) == UINT64_MAX);
	CHECK(mul_div_s64(-10, 3, 2) == -15);
}

int main(void)
{
	test_printf();
	test_fx();
	test_str();
	test_stats_math();
	return check_report("test_printf");
}

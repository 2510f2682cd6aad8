/* 64-bit arithmetic helpers that avoid overflow and libgcc. The 128-bit
 * type is used only for multiplication, addition, shifts and compares,
 * which the compiler does inline; a 128-bit division would call libgcc,
 * which the kernel does not link, so the divisions below are divq. */
#ifndef LIB_MATH_H
#define LIB_MATH_H

#include "types.h"

typedef unsigned __int128 u128;
typedef __int128 s128;

/* hi:lo / c when the quotient fits (hi < c), by one divq. */
static inline u64 div_128_64(u64 hi, u64 lo, u64 c)
{
	u64 q, r;

	__asm__("divq %4" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), "rm"(c));
	(void)r;
	return q;
}

/* a * b / c with a 128-bit intermediate; saturates at UINT64_MAX when the
 * quotient does not fit (or c is 0) instead of faulting. */
static inline u64 mul_div_u64(u64 a, u64 b, u64 c)
{
	u64 hi, lo;

	__asm__("mulq %3" : "=a"(lo), "=d"(hi) : "a"(a), "rm"(b));
	if (c == 0 || hi >= c)
		return UINT64_MAX;
	return div_128_64(hi, lo, c);
}

/* Signed a * b / c (c > 0), rounding toward zero, saturating at INT64_MIN
 * and INT64_MAX. */
static inline s64 mul_div_s64(s64 a, u64 b, u64 c)
{
	u64 mag = a < 0 ? 0 - (u64)a : (u64)a;
	u64 q = mul_div_u64(mag, b, c);

	if (a < 0)
		return q > (u64)INT64_MAX ? INT64_MIN : -(s64)q;
	return q > (u64)INT64_MAX ? INT64_MAX : (s64)q;
}

/* (a - b) / b in parts per billion, signed, saturating at INT64_MIN and
 * INT64_MAX (and at INT64_MAX when b is 0). The difference is taken as a
 * magnitude: it may not fit in an s64. */
static inline s64 ppb_diff(u64 a, u64 b)
{
	u64 q = mul_div_u64(a >= b ? a - b : b - a, 1000000000ull, b);

	if (a >= b)
		return q > (u64)INT64_MAX ? INT64_MAX : (s64)q;
	return q > (u64)INT64_MAX ? INT64_MIN : -(s64)q;
}

/* Bits needed to write v (0 for 0). */
static inline unsigned bits_u128(u128 v)
{
	u64 hi = (u64)(v >> 64), lo = (u64)v;

	return hi ? 128 - (unsigned)__builtin_clzll(hi) : lo ? 64 - (unsigned)__builtin_clzll(lo) : 0;
}

/*
 * a * b / c for 128-bit a and c, saturating at UINT64_MAX (and when c is
 * 0). Exact when a * b fits in 128 bits and c in 64. Otherwise a is cut
 * to the bits that let a * b fit, the product and c to the 64 bits of c
 * a divq takes, each cut keeping at least 62 significant bits of what a
 * quotient that fits in 64 bits needs: then the result is within 2^-60
 * of the quotient, plus one.
 */
static inline u64 mul_div_u128(u128 a, u64 b, u128 c)
{
	unsigned ab, cb;
	u128 n;

	/* Both within 64 bits: no cut below applies, and this is the same
	 * mulq and divq, without counting bits (each instruction costs where
	 * the guest is interpreted; the calibration's fit calls this per sample). */
	if (!(u64)(a >> 64) && !(u64)(c >> 64))
		return mul_div_u64((u64)a, b, (u64)c);
	ab = bits_u128(a) + bits_u128(b);
	if (ab > 128) {
		a >>= ab - 128;
		c >>= ab - 128;
	}
	if (c == 0)
		return UINT64_MAX;	/* c was 0, or below 2^(ab - 128): q > 2^126 */
	n = a * b;
	cb = bits_u128(c);
	if (cb > 64) {
		n >>= cb - 64;
		c >>= cb - 64;
	}
	if ((u64)(n >> 64) >= (u64)c)
		return UINT64_MAX;
	return div_128_64((u64)(n >> 64), (u64)n, (u64)c);
}

/* floor(sqrt(v)) of a 128-bit v, digit by digit: shifts and compares only
 * (a divq costs microseconds under some hypervisors); always fits in 64 bits. */
static inline u64 isqrt_u128(u128 v)
{
	u128 rem = v, root = 0, bit = (u128)1 << 126;

	while (bit > v)
		bit >>= 2;
	while (bit) {
		if (rem >= root + bit) {
			rem -= root + bit;
			root = (root >> 1) + bit;
		} else {
			root >>= 1;
		}
		bit >>= 2;
	}
	return (u64)root;
}

/* floor(sqrt(v)), correct up to UINT64_MAX. */
static inline u64 isqrt_u64(u64 v)
{
	return isqrt_u128(v);
}

/* sqrt(a² + b²), rounded down, for combining independent uncertainties;
 * the squares are summed in 128 bits, and a result beyond 64 bits
 * saturates at UINT64_MAX. */
static inline u64 hypot_u64(u64 a, u64 b)
{
	u128 a2 = (u128)a * a, s = a2 + (u128)b * b;

	return s < a2 ? UINT64_MAX : isqrt_u128(s);
}

#endif

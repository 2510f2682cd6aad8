/* 64-bit arithmetic helpers that avoid overflow and libgcc. */
#ifndef LIB_MATH_H
#define LIB_MATH_H

#include "types.h"

/* a * b / c with a 128-bit intermediate; saturates at UINT64_MAX when the
 * quotient does not fit (or c is 0) instead of faulting. */
static inline u64 mul_div_u64(u64 a, u64 b, u64 c)
{
	u64 hi, lo, q, r;

	__asm__("mulq %3" : "=a"(lo), "=d"(hi) : "a"(a), "rm"(b));
	if (c == 0 || hi >= c)
		return UINT64_MAX;
	__asm__("divq %4" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), "rm"(c));
	(void)r;
	return q;
}

/* Signed a * b / c (c > 0), rounding toward zero, saturating. */
static inline s64 mul_div_s64(s64 a, u64 b, u64 c)
{
	u64 mag = a < 0 ? 0 - (u64)a : (u64)a;
	u64 q = mul_div_u64(mag, b, c);

	if (q > (u64)INT64_MAX)
		q = (u64)INT64_MAX;
	return a < 0 ? -(s64)q : (s64)q;
}

/* (a - b) / b in parts per billion, signed, saturating. */
static inline s64 ppb_diff(u64 a, u64 b)
{
	return a >= b ? mul_div_s64((s64)(a - b), 1000000000ull, b)
		      : -mul_div_s64((s64)(b - a), 1000000000ull, b);
}

/* floor(sqrt(v)), by Newton's method on integers. */
static inline u64 isqrt_u64(u64 v)
{
	u64 x = v, y;

	if (v < 2)
		return v;
	y = (x + 1) / 2;
	while (y < x) {
		x = y;
		y = (x + v / x) / 2;
	}
	return x;
}

#endif

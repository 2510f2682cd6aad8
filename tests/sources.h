/* Helpers the clocksource tests share. */
#ifndef TESTS_SOURCES_H
#define TESTS_SOURCES_H

#include "test.h"
#include "boot/cmdline.h"
#include "lib/math.h"
#include "tick/calibrate.h"
#include "tick/clocksource.h"

/* The known TSC rate from the command line (tsc_hz=), or 0. */
static inline u64 known_tsc_hz(struct test_env *env)
{
	return cmdline_u64(env->cmd, "tsc_hz", 1000000, 100000000000ull, 0);
}

/* The boot calibration's result against name, or NULL. */
static inline const struct cal_result *cal_for(const char *name)
{
	const struct cal_run *run = calibrate_last();

	for (int i = 0; i < run->n; i++)
		if (!__builtin_strcmp(run->r[i].cs->name, name))
			return &run->r[i];
	return NULL;
}

/* (a - b) / b in parts per billion, signed. */
static inline s64 ppb_diff(u64 a, u64 b)
{
	return a >= b ? mul_div_s64((s64)(a - b), 1000000000ull, b)
		      : -mul_div_s64((s64)(b - a), 1000000000ull, b);
}

/* sqrt(a² + b²), for combining independent uncertainties. */
static inline u64 hypot_u64(u64 a, u64 b)
{
	return isqrt_u64(a * a + b * b);
}

/*
 * The clocksource named name, or the verdict to return: SKIP when it is
 * absent (with the driver's reason), FAIL when its driver found it broken.
 */
enum verdict source_or_verdict(const char *name, struct clocksource **out);

#endif

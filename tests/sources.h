/* Helpers the clocksource tests share. */
#ifndef TESTS_SOURCES_H
#define TESTS_SOURCES_H

#include "test.h"
#include "lib/cmdline.h"
#include "lib/math.h"
#include "measure/calibrate.h"
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

/* sqrt(a² + b²), for combining independent uncertainties. */
static inline u64 hypot_u64(u64 a, u64 b)
{
	return isqrt_u64(a * a + b * b);
}

/*
 * How far a rate measured against a reference may be from the truth:
 * the targets this project holds calibration to (50 ppm from a 100 ms
 * window, 5 ppm from 1 s; proportionally more below 100 ms) plus three
 * of the stated standard uncertainty unc_ppb. The stated uncertainty is
 * statistical; the target covers what it cannot see (a hypervisor's clock
 * adjustments within the window, a constant bias in when reads land).
 * A polled event source (the RTC flag) is timed by an emulator's timer
 * loop when virtualised: it gets Linux's 500 ppm refined-calibration
 * threshold on top.
 */
static inline u64 rate_tolerance_ppb(const struct clocksource *cs, u64 unc_ppb)
{
	u64 window = calibrate_last()->window_ns;
	u64 target = window >= 1000000000ull ? 5000 :
		     window >= 100000000ull ? 50000 : mul_div_u64(50000, 100000000ull, window);

	if (cs->flags & CS_EVENTS)
		target += 500000;
	return target + 3 * unc_ppb;
}

/*
 * The verdict when too few of the calibration's samples against r were
 * usable: ERROR when samples were dropped because their bracket (for an
 * event source, the polling gap the event fell in) was too wide, which is
 * the host keeping the vCPU away (the test then cannot judge the device;
 * counted for the host suite); FAIL when the device itself gave too few.
 */
enum verdict unusable_verdict(const struct cal_result *r, const char *what);

/* The verdict for a device that did not register: SKIP with the driver's
 * reason when it is absent, FAIL when the driver found it broken. */
enum verdict absent_verdict(const char *name);

/*
 * The clocksource named name, or the verdict to return: SKIP when it is
 * absent (with the driver's reason), FAIL when its driver found it broken.
 */
enum verdict source_or_verdict(const char *name, struct clocksource **out);

#endif

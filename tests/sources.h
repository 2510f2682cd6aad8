/* Helpers the clocksource tests share. */
#ifndef TESTS_SOURCES_H
#define TESTS_SOURCES_H

#include "test.h"
#include "lib/cmdline.h"
#include "arch-x86/delay.h"
#include "lib/math.h"
#include "measure/calibrate.h"
#include "tick/clocksource.h"

/* The known TSC rate from the command line (tsc_hz=), or 0. */
static inline u64 known_tsc_hz(struct test_env *env)
{
	return cmdline_u64(env->cmd, "tsc_hz", 1000000, 100000000000ull, 0);
}

/* The host's TSC rate against CLOCK_MONOTONIC_RAW (tsc_raw_hz=), or 0. */
static inline u64 known_tsc_raw_hz(struct test_env *env)
{
	return cmdline_u64(env->cmd, "tsc_raw_hz", 1000000, 100000000000ull, 0);
}

/* How well the known TSC rate is known: tsc_unc_ppb= (1 sigma, ppb),
 * 0 when not given (an exact answer such as -icount's 1 GHz). */
static inline u64 known_tsc_unc_ppb(struct test_env *env)
{
	return cmdline_u64(env->cmd, "tsc_unc_ppb", 0, 100000000ull, 0);
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

/* Cited figures a tolerance may rest on. */
#define HPET_SPEC_PPB	500000	/* IA-PC HPET 1.0a: main counter within +-0.05 % */
#define RTC_SPEC_PPB	23000	/* DS12887: trimmed to +-1 minute a month at 25 C */
#define REF_SPEC_PPB	500000	/* Linux warns when its refined TSC calibration
				 * disagrees with HPET/PM by more than 500 ppm */

/*
 * The accuracy a source's nominal rate is specified to, in ppb, and where
 * the figure comes from (*cite): the HPET spec's +-0.05 % for the HPET,
 * the DS12887 data sheet's +-1 minute a month (23 ppm) for the RTC,
 * KVM's whole-kHz TSC rate behind kvm-clock's scale (500 Hz of the TSC
 * rate), none for another source computed from the TSC, and for the PM
 * timer and the PIT, which no spec bounds, the 500 ppm beyond which
 * Linux's refined TSC calibration warns.
 */
u64 source_spec_ppb(const struct clocksource *cs, const char **cite);

/* What a rate measured in this run is held to. */
struct truth {
	u64 tsc_hz;		/* TSC cycles per true second by this truth */
	u64 unc_ppb;		/* its stated 1-sigma */
	u64 spec_ppb;		/* the cited accuracy it rests on (0: a known answer) */
	const char *name;	/* "tsc_hz=" or the reference's name */
	const struct cal_result *ref;	/* the reference, NULL for tsc_hz= */
};

/*
 * The known TSC rate (tsc_hz=, with tsc_unc_ppb=) when given, or for a
 * clock KVM computes from the TSC (`except` CS_TSC_BASED: kvm-clock,
 * Hyper-V's) the rate against CLOCK_MONOTONIC_RAW when given (tsc_raw_hz=):
 * KVM's master clock follows that clock, QEMU's devices CLOCK_MONOTONIC,
 * which NTP slews by up to 500 ppm (Linux arch/x86/kvm/x86.c,
 * pvclock_update_vm_gtod_copy, and QEMU's QEMU_CLOCK_VIRTUAL); else the
 * usable independent reference (not derived from the TSC) other than
 * `except` with the smallest uncertainty, so that without a known answer
 * a rate is held to the agreement of the others. False when neither.
 */
bool truth_for(struct test_env *env, const struct cal_result *except, struct truth *t);

/* truth_for(env, NULL, t), else the ruler itself, resting on its
 * reference's cited REF_SPEC_PPB. */
static inline void truth_or_ruler(struct test_env *env, struct truth *t)
{
	if (!truth_for(env, NULL, t))
		*t = (struct truth){ tsc_hz(), 0, REF_SPEC_PPB, "the ruler", NULL };
}

/*
 * How far a rate measured against cs with 1-sigma unc_ppb may be from the
 * truth t: three of their combined stated uncertainty, plus the cited
 * accuracy of cs and of what the truth rests on.
 */
static inline u64 rate_tolerance_ppb(const struct clocksource *cs, u64 unc_ppb,
				     const struct truth *t)
{
	const char *cite;

	return 3 * hypot_u64(unc_ppb, t->unc_ppb) + source_spec_ppb(cs, &cite) + t->spec_ppb;
}

/*
 * The verdict when too few of the calibration's samples against r were
 * usable: for a counter, ERROR when samples were dropped because their
 * bracket was too wide, which is the host keeping the vCPU away (the test
 * then cannot judge the device; counted for the host suite), FAIL when
 * the device itself gave too few; for an event source (the RTC's flag),
 * as its flags missed while the host kept this vCPU or the emulator away
 * say (events_unusable in clocksource_test.c).
 */
enum verdict unusable_verdict(struct test_env *env, const struct cal_result *r, const char *what);

/* For an event source (the RTC's flag), a diagnostic line of what its
 * last calibration window saw (flags due, seen, and missed by cause), and
 * the planted faults of its flag (plant=rtc_slow, rtc_dead) when given. */
void cal_events_diag(struct test_env *env, const struct cal_result *r);

/* The verdict for a device that did not register: SKIP with the driver's
 * reason when it is absent, FAIL when the driver found it broken. */
enum verdict absent_verdict(const char *name);

/*
 * The clocksource named name, or the verdict to return: SKIP when it is
 * absent (with the driver's reason), FAIL when its driver found it broken.
 */
enum verdict source_or_verdict(const char *name, struct clocksource **out);

struct clockevent;
/* The clockevent named name with all of features, or the verdict to return
 * instead: SKIP (absent, or without the mode), FAIL (found broken). */
enum verdict ce_or_verdict(const char *name, u32 features, struct clockevent **out);

#endif

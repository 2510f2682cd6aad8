#include "sources.h"
#include "boot/cmdline.h"
#include "drivers/acpi_pm.h"
#include "drivers/hpet.h"
#include "drivers/kvmclock.h"
#include "drivers/pit.h"
#include "drivers/rtc.h"
#include "drivers/tsc.h"
#include "arch-x86/cpu.h"
#include "lib/str.h"
#include "tick/calibrate.h"
#include "tick/clocksource.h"

/*
 * The RTC's periodic flag is polled once per calibration round (one read
 * of every source). An event seen late by most of a round cannot be told
 * from one period more or less, so the period must be many rounds long:
 * 1024 Hz where reads are cheap, 256 Hz where every read traps to the
 * hypervisor (a round of six sources then takes 0.3-0.8 ms).
 */
static int rtc_rate(void)
{
	u64 best = UINT64_MAX;

	for (int i = 0; i < 8; i++) {
		u64 a = rdtsc_ordered();

		(void)cmos_read(RTC_REG_A);
		best = MIN(best, rdtsc_ordered() - a);
	}
	/* 6 sources x (read + bracket) x 8 rounds per 976 µs period. */
	return tsc_to_ns(best) * 6 * 8 < 976000 ? 6 : 8;
}

static void note(const char *name, int rc, const char *why)
{
	if (rc)
		clocksource_absent(name, rc, why);
}

/* Each driver sets why only when it fails, so call it before reading why. */
#define START(name, call)			\
	do {					\
		int rc_ = (call);		\
		note(name, rc_, why);		\
	} while (0)

void sources_init(const struct cpu_info *ci, const struct acpi_info *ai, struct cmdline *cmd)
{
	struct hpet_info hi;
	const char *why = "", *pm = cmdline_get(cmd, "pmtimer");
	bool thorough = cmdline_has(cmd, "thorough");
	u64 cal_ms;

	if (pm && strcmp(pm, "plain") && strcmp(pm, "verified"))
		cmdline_warn(cmd, "pmtimer= takes plain or verified; using plain");
	why = "CPUID says there is no TSC";
	START("tsc", tsc_clocksource_init(ci));
	START("hpet", hpet_init(ai, &hi, &why));
	START("pm", acpi_pm_init(ai, pm && !strcmp(pm, "verified"), &why));
	START("pit", pit_clocksource_init(&why));
	START("rtc", rtc_clocksource_init(rtc_rate(), &why));
	START("kvmclock", kvmclock_init(ci, &why));
	cal_ms = cmdline_u64(cmd, "cal_ms", 10, 10000, thorough ? 1000 : 100);
	calibrate_boot(cal_ms * 1000000);
}

/* Starts every time source at boot: the clocksource drivers, the TSC
 * calibration, then the clockevents. It must not judge a source: a failed
 * probe is only recorded (tick_absent) for the tests to report. */
#include "sources.h"
#include "arch-x86/delay.h"
#include "drivers/acpi_pm.h"
#include "drivers/hpet.h"
#include "drivers/hyperv.h"
#include "drivers/kvmclock.h"
#include "drivers/lapic_timer.h"
#include "drivers/pit.h"
#include "drivers/rtc.h"
#include "drivers/tsc.h"
#include "lib/cmdline.h"
#include "lib/str.h"
#include "measure/calibrate.h"
#include "measure/lapic_rate.h"
#include "tick/clocksource.h"
#include "tick/clockevent.h"
#include "tick/tick.h"

/*
 * The RTC's periodic flag is polled once per calibration round. A flag is
 * not a counter: periods that pass unseen are counted by the ruler, which
 * goes wrong when an event is seen (or, under TCG, raised by QEMU) late
 * by half a period. 256 Hz leaves 1.9 ms of slack, more than a polling
 * round takes even where every read traps (0.3-0.8 ms) and more than the
 * main-loop delays seen under TCG; 1024 Hz was seen to miscount there.
 */
#define RTC_CAL_RATE	8

static void note(const char *name, int rc, const char *why)
{
	if (rc)
		tick_absent(name, rc, why);
}

/* Each driver sets why only when it fails, so call it before reading why. */
#define START(name, call)			\
	do {					\
		int rc_ = (call);		\
		note(name, rc_, why);		\
	} while (0)

void sources_init(const struct cpu_info *ci, const struct acpi_info *ai, int nioapics,
		  struct cmdline *cmd)
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
	START("rtc", rtc_clocksource_init(RTC_CAL_RATE, &why));
	/* Planted faults of the RTC flag's calibration, behind the driver's
	 * back (tsc.freq_rtc and rtc.rate must FAIL, and say so): the flag at
	 * a sixteenth of the rate it was registered with, or never raised
	 * (PIE cleared: QEMU then stops its periodic timer). */
	if (cmdline_list_has(cmd, "plant", "rtc_slow"))
		cmos_write(RTC_REG_A, (u8)((cmos_read(RTC_REG_A) & ~REG_A_RATE_MASK) |
					   (RTC_CAL_RATE + 4)));
	if (cmdline_list_has(cmd, "plant", "rtc_dead"))
		cmos_write(RTC_REG_B, (u8)(cmos_read(RTC_REG_B) & ~REG_B_PIE));
	/* The flag's sightings stretched 0.8 % in the first window only
	 * (measured again once beyond 3 sigma of the ruler: PASS on the
	 * second), or in every window (FAIL). */
	if (cmdline_list_has(cmd, "plant", "rtc_off_once"))
		calibrate_plant_events(1);
	if (cmdline_list_has(cmd, "plant", "rtc_off"))
		calibrate_plant_events(-1);
	START("kvmclock", kvmclock_init(ci, &why));
	START("hyperv", hyperv_init(ci, &why));
	cal_ms = cmdline_u64(cmd, "cal_ms", 10, 10000, thorough ? 1000 : 100);
	/* Without an early rate (no PIT channel 2 to time, no CPUID rate)
	 * the ruler assumes 1 GHz, so every window would be off by the true
	 * rate's ratio, and the events numbered on a wrong period: a short
	 * calibration against the counters first sets the ruler. */
	if (!strcmp(tsc_hz_source(), "assumed"))
		calibrate_boot(10 * 1000000);
	calibrate_boot(cal_ms * 1000000);

	/* Clockevents need the calibrated TSC: it times their calibration
	 * (LAPIC) and converts their deadlines. */
	{
		const char *why_dl = "";
		int rc = lapic_timer_init(ci, &why, &why_dl);

		note("lapic", rc, why);
		/* The LAPIC timer's rate by a fit over the TSC's window (at
		 * most 1 s: 100 ms already gives 0.02 ppm under TCG, and a
		 * long window is asked for the RTC flag's sake), replacing the
		 * driver's two-read estimate. */
		if (rc == 0)
			lapic_rate_measure(MIN(cal_ms, 1000ull) * 1000000);
		if (!clockevent_find("tscdeadline"))
			tick_absent("tscdeadline", -ENODEV, why_dl);
	}
	START("pit", pit_clockevent_init(nioapics, &why));
	START("hpet", hpet_clockevent_init(nioapics, cmdline_has(cmd, "hpet_legacy"), &why));
	START("rtc", rtc_clockevent_init(nioapics, &why));
	{
		const char *ce = cmdline_get(cmd, "clockevent"), *cs = cmdline_get(cmd, "clocksource");

		if (ce && !clockevent_find(ce))
			cmdline_warn(cmd, "clockevent= names no registered device; using the best");
		if (cs && !clocksource_find(cs))
			cmdline_warn(cmd, "clocksource= names no registered counter; using the best");
		(void)cmdline_u64(cmd, "hz", HZ_MIN, HZ_MAX, HZ_DEFAULT);
	}
}

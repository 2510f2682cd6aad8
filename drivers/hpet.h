/* High Precision Event Timer: the main counter as a clocksource. The
 * address comes from the ACPI HPET table only. */
#ifndef DRIVERS_HPET_H
#define DRIVERS_HPET_H

#include "lib/types.h"

#define HPET_GCAP_ID		0x000
#define   GCAP_REV_MASK		0xFF
#define   GCAP_NUM_TIM_SHIFT	8		/* bits 12:8: timers - 1 */
#define   GCAP_COUNT_SIZE_64	(1ull << 13)
#define   GCAP_LEG_RT_CAP	(1ull << 15)
#define   GCAP_PERIOD_SHIFT	32		/* bits 63:32: femtoseconds per tick */
#define HPET_CONFIG		0x010
#define   CONFIG_ENABLE		(1ull << 0)
#define   CONFIG_LEG_RT		(1ull << 1)
#define HPET_ISR		0x020
#define HPET_COUNTER		0x0F0
#define HPET_TIMER_CONFIG(n)	(0x100 + 0x20 * (n))
#define   TN_INT_TYPE_LEVEL	(1ull << 1)
#define   TN_INT_ENB		(1ull << 2)
#define   TN_PERIODIC		(1ull << 3)
#define   TN_PERIODIC_CAP	(1ull << 4)
#define   TN_SIZE_CAP		(1ull << 5)	/* 64-bit comparator */
#define   TN_VAL_SET		(1ull << 6)
#define   TN_32MODE		(1ull << 8)
#define   TN_ROUTE_SHIFT	9
#define   TN_ROUTE_MASK		(0x1Full << 9)
#define   TN_FSB_EN		(1ull << 14)
				/* bits 63:32: IOAPIC inputs the timer may use */
#define HPET_TIMER_CMP(n)	(0x108 + 0x20 * (n))

/* The spec allows periods up to 100 ns (10 MHz); we also refuse anything
 * faster than 10 GHz: either is a broken or absent device. */
#define HPET_PERIOD_MIN_FS	100000ul
#define HPET_PERIOD_MAX_FS	100000000ul

struct acpi_info;

struct hpet_info {
	u64 base;
	u64 period_fs;
	u64 freq_hz;
	int width;		/* 32 or 64 */
	int timers;
	bool legacy_capable;
	bool was_enabled;	/* the counter was already running */
	u16 vendor;
};

/*
 * Finds the HPET through ACPI, checks its capabilities, starts the main
 * counter if it is stopped (never resetting one that runs) and registers
 * the "hpet" clocksource. Returns 0; -ENODEV when there is no HPET table
 * (why is set to a reason); -EIO when the table points at something that
 * is not a working HPET (why says what was read).
 */
int hpet_init(const struct acpi_info *ai, struct hpet_info *out, const char **why);

/*
 * Registers the "hpet" clockevent: comparator 0, edge-triggered, through
 * the highest IOAPIC input above 15 its route capability allows; in
 * legacy-replacement mode (IRQ0, taken from the PIT, and IRQ8 from the
 * RTC, while in use) when `legacy` is asked for or only ISA inputs are
 * allowed, as on QEMU. Oneshot
 * re-reads the counter after programming and returns -ETIME when it had
 * already passed the comparator. Periodic when the comparator can.
 * Needs hpet_init first. Returns 0, -ENODEV (*why says why) or -EIO.
 */
int hpet_clockevent_init(int nioapics, bool legacy, const char **why);

#endif

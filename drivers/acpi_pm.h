/* ACPI power-management timer: 3.579545 MHz, 24 or 32 bits, at the port
 * (or MMIO address) the FADT gives. */
#ifndef DRIVERS_ACPI_PM_H
#define DRIVERS_ACPI_PM_H

#include "lib/types.h"

#define PM_TIMER_HZ	3579545u
#define PM_READ_CHECKS	10	/* Linux's ACPI_PM_READ_CHECKS */

struct acpi_info;

struct pm_info {
	u64 address;
	bool mmio;
	int width;		/* 24 or 32 */
	bool verified;		/* reads use the three-read ordering check */
	u64 verify_retries;	/* reads that needed another try */
};

/*
 * Registers the "pm" clocksource from the FADT. verified makes every read
 * take three values until they are ordered (for chipsets that return
 * unlatched, torn values: PIIX4 errata, Linux's acpi_pm_read_verified).
 * Returns 0, -ENODEV (no FADT or no timer block; *why says which), or -EIO
 * (the counter does not count).
 */
int acpi_pm_init(const struct acpi_info *ai, bool verified, const char **why);
/* Driver state, for the report. */
const struct pm_info *acpi_pm_info(void);

#endif

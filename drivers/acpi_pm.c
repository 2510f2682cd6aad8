/* The ACPI PM timer as the "pm" clocksource. It must not register a timer
 * that does not count, nor retry a read without a bound. */
#include "acpi_pm.h"
#include "arch-x86/acpi.h"
#include "arch-x86/cpu.h"
#include "arch-x86/paging.h"
#include "lib/printf.h"
#include "tick/clocksource.h"

static struct pm_info info;
static char reason[96];

static u32 raw_read(void)
{
	u32 v = info.mmio ? mmio_read32(info.address) : inl((u16)info.address);

	return info.width == 32 ? v : v & 0xFFFFFF;
}

static u64 read_plain(struct clocksource *cs)
{
	(void)cs;
	return raw_read();
}

/* Three reads, accepted when v1 <= v2 <= v3 modulo the wrap, as Linux
 * does for chipsets that latch the counter badly. Bounded: after
 * PM_READ_CHECKS tries the middle value is used anyway. */
static u64 read_verified(struct clocksource *cs)
{
	u32 mask = (u32)cs->mask;
	u32 v1 = 0, v2 = 0, v3 = 0;

	for (int i = 0; i < PM_READ_CHECKS; i++) {
		v1 = raw_read();
		v2 = raw_read();
		v3 = raw_read();
		if (((v2 - v1) & mask) <= ((v3 - v1) & mask))
			return v2;
		info.verify_retries++;
	}
	return v2;
}

static struct clocksource pm_cs = {
	.name = "pm",
	.rating = 200,
	.freq_hz = PM_TIMER_HZ,
	.flags = CS_EXITS,
};

int acpi_pm_init(const struct acpi_info *ai, bool verified, const char **why)
{
	u64 first;

	*why = reason;
	if (!ai->present || !ai->fadt) {
		const char *p = acpi_problem(ai, "FACP");

		if (p)
			snprintf_(reason, sizeof(reason), "ACPI table refused: %s", p);
		else
			snprintf_(reason, sizeof(reason), "no ACPI FADT, so no PM timer block");
		return -ENODEV;
	}
	if (ai->pm_timer.address == 0) {
		snprintf_(reason, sizeof(reason), "the FADT's PM timer block is 0 (no PM timer)");
		return -ENODEV;
	}
	info.address = ai->pm_timer.address;
	info.mmio = ai->pm_timer.space == ACPI_GAS_MEMORY;
	/* An MMIO timer above 4 GiB is mapped on demand. */
	if ((!info.mmio && (ai->pm_timer.space != ACPI_GAS_IO || info.address > 0xFFFC)) ||
	    (info.mmio && paging_map_mmio(info.address, 4))) {
		snprintf_(reason, sizeof(reason), "PM timer at 0x%lx in address space %u is unusable",
			  info.address, ai->pm_timer.space);
		return -EIO;
	}
	info.width = ai->pm_timer_32bit ? 32 : 24;
	info.verified = verified;
	pm_cs.read = read_plain;	/* the probe reads plainly, whatever follows */
	if (!clocksource_counts(&pm_cs, &first)) {
		snprintf_(reason, sizeof(reason), "PM timer at 0x%lx does not count (stuck at 0x%lx)",
			  info.address, first);
		return -EIO;
	}
	pm_cs.mask = info.width == 32 ? 0xFFFFFFFFull : 0xFFFFFFull;
	pm_cs.read = verified ? read_verified : read_plain;
	pm_cs.read_method = info.mmio ? (verified ? "MMIO read, 3-read verified" : "MMIO read")
				      : (verified ? "inl, 3-read verified" : "inl");
	return clocksource_register(&pm_cs);
}

const struct pm_info *acpi_pm_info(void)
{
	return &info;
}

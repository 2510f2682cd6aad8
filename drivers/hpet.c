#include "hpet.h"
#include "arch-x86/acpi.h"
#include "arch-x86/cpu.h"
#include "lib/printf.h"
#include "tick/clocksource.h"

static struct hpet_info info;
static char reason[96];

static u64 hpet_read64(u32 off) { return mmio_read64(info.base + off); }
static void hpet_write64(u32 off, u64 v) { mmio_write64(info.base + off, v); }

static u64 read_counter(struct clocksource *cs)
{
	(void)cs;
	if (info.width == 64)
		return hpet_read64(HPET_COUNTER);
	return mmio_read32(info.base + HPET_COUNTER);
}

static struct clocksource hpet_cs = {
	.name = "hpet",
	.rating = 250,
	.read = read_counter,
	.flags = CS_EXITS,
};

int hpet_init(const struct acpi_info *ai, struct hpet_info *out, const char **why)
{
	u64 cap;
	int i;

	*why = reason;
	if (!ai->present) {
		snprintf_(reason, sizeof(reason), "no ACPI tables, so no HPET table");
		return -ENODEV;
	}
	if (!ai->hpet) {
		snprintf_(reason, sizeof(reason), "no (valid) ACPI HPET table");
		return -ENODEV;
	}
	info.base = ai->hpet_base.address;
	if (ai->hpet_base.space != ACPI_GAS_MEMORY || info.base == 0 ||
	    info.base >= 0x100000000ull || (info.base & 0x3FF)) {
		snprintf_(reason, sizeof(reason), "HPET table gives an unusable base 0x%lx (space %u)",
			  info.base, ai->hpet_base.space);
		return -EIO;
	}
	cap = hpet_read64(HPET_GCAP_ID);
	info.period_fs = cap >> GCAP_PERIOD_SHIFT;
	if (cap == ~0ull || cap == 0) {
		snprintf_(reason, sizeof(reason), "nothing answers at 0x%lx (capabilities read 0x%lx)",
			  info.base, cap);
		return -EIO;
	}
	if (info.period_fs < HPET_PERIOD_MIN_FS || info.period_fs > HPET_PERIOD_MAX_FS) {
		snprintf_(reason, sizeof(reason), "period %lu fs is outside %lu..%lu fs",
			  info.period_fs, HPET_PERIOD_MIN_FS, HPET_PERIOD_MAX_FS);
		return -EIO;
	}
	info.freq_hz = (1000000000000000ull + info.period_fs / 2) / info.period_fs;
	info.width = (cap & GCAP_COUNT_SIZE_64) ? 64 : 32;
	info.timers = (int)((cap >> GCAP_NUM_TIM_SHIFT) & 0x1F) + 1;
	info.legacy_capable = cap & GCAP_LEG_RT_CAP;
	info.vendor = (u16)(cap >> 16);
	info.was_enabled = hpet_read64(HPET_CONFIG) & CONFIG_ENABLE;
	if (!info.was_enabled) {
		/* Mask every comparator before the counter runs. */
		for (i = 0; i < info.timers; i++)
			hpet_write64(HPET_TIMER_CONFIG(i),
				     hpet_read64(HPET_TIMER_CONFIG(i)) & ~(1ull << 2));
		hpet_write64(HPET_CONFIG, hpet_read64(HPET_CONFIG) | CONFIG_ENABLE);
	}
	/* A counter that does not move after being enabled is broken. */
	{
		u64 a = read_counter(NULL), b = a;

		for (i = 0; i < 100000 && b == a; i++)
			b = read_counter(NULL);
		if (b == a) {
			snprintf_(reason, sizeof(reason), "main counter stuck at 0x%lx after enabling", a);
			return -EIO;
		}
	}
	hpet_cs.mask = info.width == 64 ? ~0ull : 0xFFFFFFFFull;
	hpet_cs.freq_hz = info.freq_hz;
	hpet_cs.read_method = info.width == 64 ? "64-bit MMIO read" : "32-bit MMIO read";
	*out = info;
	return clocksource_register(&hpet_cs);
}

/* The TSC as the "tsc" clocksource, its early rate estimate (PIT channel
 * 2, else CPUID) and what CPUID claims. It must not calibrate against the
 * other sources (measure/ does); it hands the rate down to the ruler. */
#include "tsc.h"
#include "kvmclock.h"
#include "pit.h"
#include "arch-x86/cpu.h"
#include "arch-x86/cpuinfo.h"
#include "arch-x86/delay.h"
#include "lib/math.h"
#include "lib/printf.h"
#include "lib/str.h"
#include "tick/clocksource.h"

#define EARLY_PIT_COUNT	11932		/* 10 ms at PIT_HZ */
#define EARLY_SPINS	10000000	/* ≫ 10 ms of port reads anywhere */

static u64 read_tsc(struct clocksource *cs)
{
	(void)cs;
	return rdtsc_ordered();
}

static struct clocksource tsc_cs = {
	.name = "tsc",
	.rating = 300,
	.read = read_tsc,
	.mask = ~0ull,
	.read_method = "lfence;rdtsc",
};

void tsc_set_hz(u64 h, const char *src)
{
	tsc_ruler_set(h, src);
	tsc_cs.freq_hz = h;
}

static char early_why[128];

/* The TSC rate over EARLY_PIT_COUNT ticks of PIT channel 2, or 0 with
 * early_why saying what was seen instead. */
static u64 pit_estimate(void)
{
	u64 t0, t1, hz;
	u32 i;

	pit_ch2_start(EARLY_PIT_COUNT);
	t0 = rdtsc_ordered();
	for (i = 0; i < EARLY_SPINS && !pit_ch2_done(); i++)
		;
	t1 = rdtsc_ordered();
	/* No PIT, or no port 0x61 to read channel 2's output through (QEMU's
	 * microvm has a PIT but no port 0x61): OUT2 reads high at once, or
	 * never moves. */
	if (i == 0) {
		snprintf_(early_why, sizeof(early_why), "PIT channel 2's output (port 0x61 bit 5) "
			  "was high before it counted: no port 0x61 or no PIT");
		return 0;
	}
	if (i == EARLY_SPINS) {
		snprintf_(early_why, sizeof(early_why), "PIT channel 2's output (port 0x61 bit 5) "
			  "never rose in %u reads", i);
		return 0;
	}
	hz = mul_div_u64(t1 - t0, PIT_HZ, EARLY_PIT_COUNT);
	snprintf_(early_why, sizeof(early_why), "PIT channel 2 gave %lu kHz, outside "
		  "100 MHz..20 GHz", hz / 1000);
	return hz;
}

int tsc_early_calibrate(const struct cpu_info *ci, const char **why)
{
	u64 est = pit_estimate();
	struct tsc_claims c;
	const char *which;
	size_t n;

	*why = early_why;
	/* Anything below 100 MHz or above 20 GHz is not a TSC rate. */
	if (est >= 100000000ull && est <= 20000000000ull) {
		tsc_set_hz(est, "pit");
		return 0;
	}
	tsc_read_claims(ci, &c);
	est = tsc_cpuid_claim(&c, &which);
	if (!est) {
		n = strnlen(early_why, sizeof(early_why));
		snprintf_(early_why + n, sizeof(early_why) - n, "; CPUID gives no TSC rate");
		return -ENODEV;
	}
	tsc_set_hz(est, which);
	return 0;
}

int tsc_clocksource_init(const struct cpu_info *ci)
{
	if (!ci->tsc)
		return -ENODEV;
	tsc_cs.freq_hz = tsc_hz();
	return clocksource_register(&tsc_cs);
}

void tsc_read_claims(const struct cpu_info *ci, struct tsc_claims *c)
{
	struct pvclock_time p;

	c->cpuid15_hz = ci->l15_den && ci->l15_num && ci->l15_crystal_hz ?
			mul_div_u64(ci->l15_crystal_hz, ci->l15_num, ci->l15_den) : 0;
	c->cpuid16_hz = (u64)ci->l16_base_mhz * 1000000;
	c->hv_hz = (u64)ci->hv_tsc_khz * 1000;
	c->kvmclock_hz = clocksource_find("kvmclock") && kvmclock_snapshot(&p) ?
			 kvmclock_tsc_hz(&p) : 0;
}

u64 tsc_cpuid_claim(const struct tsc_claims *c, const char **which)
{
	if (c->cpuid15_hz) {
		*which = "cpuid 0x15";
		return c->cpuid15_hz;
	}
	if (c->hv_hz) {
		*which = "cpuid 0x40000010";
		return c->hv_hz;
	}
	*which = c->cpuid16_hz ? "cpuid 0x16" : "none";
	return c->cpuid16_hz;
}

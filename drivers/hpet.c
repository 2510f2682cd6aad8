/* The HPET main counter as the "hpet" clocksource, comparator 0 as the
 * "hpet" clockevent. It must not reset a counter that already runs, nor
 * leave its interrupt routed after shutdown. */
#include "hpet.h"
#include "hpet_cmp.h"
#include "arch-x86/acpi.h"
#include "arch-x86/cpu.h"
#include "arch-x86/delay.h"
#include "lib/printf.h"
#include "tick/clocksource.h"
#include "tick/clockevent.h"
#include "arch-x86/idt.h"
#include "arch-x86/ioapic.h"
#include "arch-x86/lapic.h"
#include "arch-x86/paging.h"
#include "lib/math.h"

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

/* One probe in the order the HPET spec gives (table, capabilities, period,
 * counter running); kept whole (65 lines) so each early return sits beside
 * the reason it names. */
int hpet_init(const struct acpi_info *ai, struct hpet_info *out, const char **why)
{
	u64 cap, first;
	int i, rc;

	*why = reason;
	if (!ai->present) {
		snprintf_(reason, sizeof(reason), "no ACPI tables, so no HPET table");
		return -ENODEV;
	}
	if (!ai->hpet) {
		const char *p = acpi_problem(ai, "HPET");

		if (p)
			snprintf_(reason, sizeof(reason), "ACPI table refused: %s", p);
		else
			snprintf_(reason, sizeof(reason), "no (valid) ACPI HPET table");
		return -ENODEV;
	}
	info.base = ai->hpet_base.address;
	if (ai->hpet_base.space != ACPI_GAS_MEMORY || info.base == 0 || (info.base & 0x3FF)) {
		snprintf_(reason, sizeof(reason), "HPET table gives an unusable base 0x%lx (space %u)",
			  info.base, ai->hpet_base.space);
		return -EIO;
	}
	/* HPETs may sit above 4 GiB, past the boot identity map: map the
	 * 1 KiB block there on demand. */
	rc = paging_map_mmio(info.base, 0x400);
	if (rc) {
		snprintf_(reason, sizeof(reason), "HPET at 0x%lx cannot be mapped (%s)", info.base,
			  rc == -ERANGE ? "beyond this CPU's physical address bits" : "no page table left");
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
	if (!clocksource_counts(&hpet_cs, &first)) {
		snprintf_(reason, sizeof(reason), "main counter stuck at 0x%lx after enabling", first);
		return -EIO;
	}
	hpet_cs.mask = info.width == 64 ? ~0ull : 0xFFFFFFFFull;
	hpet_cs.freq_hz = info.freq_hz;
	hpet_cs.read_method = info.width == 64 ? "64-bit MMIO read" : "32-bit MMIO read";
	*out = info;
	return clocksource_register(&hpet_cs);
}

/* ---- comparator 0 as a clockevent through the IOAPIC ---- */

#define HPET_CE_TIMER	0

static struct clockevent hpet_ce;
static int ce_vector = -1;
static u32 ce_gsi;
static bool ce_64, ce_routed, ce_legacy;

/*
 * The interrupt is routed while the comparator is in use and masked at
 * shutdown. Where the route capability offers no input of its own (QEMU
 * allows only GSI 2, which the PIT drives), legacy-replacement mode is
 * used instead: comparator 0 becomes IRQ0 and comparator 1 IRQ8, and the
 * PIT and RTC lose their interrupts for as long as it is on.
 */
static int ce_route(void)
{
	int rc;

	if (ce_routed)
		return 0;
	if (ce_legacy) {
		rc = ioapic_route_isa(0, (u8)ce_vector, lapic_id());
		hpet_write64(HPET_CONFIG, hpet_read64(HPET_CONFIG) | CONFIG_LEG_RT);
	} else {
		rc = ioapic_route_gsi(ce_gsi, (u8)ce_vector, lapic_id(), 0);
	}
	if (rc < 0)
		return -EINVAL;
	ce_routed = true;
	return 0;
}

static void hpet_irq(struct int_frame *f, void *ctx)
{
	u64 tsc = rdtsc();

	(void)f;
	(void)ctx;
	clockevent_irq(&hpet_ce, tsc);
}

static u64 timer_cfg(void)
{
	return hpet_read64(HPET_TIMER_CONFIG(HPET_CE_TIMER));
}

static void cfg_write(u64 cfg, u64 set, u64 clear)
{
	cfg &= ~(clear | TN_ROUTE_MASK | TN_32MODE);
	cfg |= set | ((u64)ce_gsi << TN_ROUTE_SHIFT);
	if (!ce_64)
		cfg |= TN_32MODE;
	hpet_write64(HPET_TIMER_CONFIG(HPET_CE_TIMER), cfg);
}

static void set_cfg(u64 set, u64 clear)
{
	cfg_write(timer_cfg(), set, clear);
}

static void write_cmp(u64 v)
{
	if (ce_64)
		hpet_write64(HPET_TIMER_CMP(HPET_CE_TIMER), v);
	else
		mmio_write32(info.base + HPET_TIMER_CMP(HPET_CE_TIMER), (u32)v);
}

static u64 read_cmp(void)
{
	if (ce_64)
		return hpet_read64(HPET_TIMER_CMP(HPET_CE_TIMER));
	return mmio_read32(info.base + HPET_TIMER_CMP(HPET_CE_TIMER));
}

#define HPET_PERIODIC_TRIES	3

static int hpet_periodic(struct clockevent *ce, u64 hz)
{
	u64 period;

	if (hz == 0)
		return -EINVAL;
	period = (info.freq_hz + hz / 2) / hz;
	if (period < ce->min_delta || period > ce->max_delta || ce_route())
		return -EINVAL;
	ce->period_mhz = mul_div_u64(info.freq_hz, 1000, period);
	ce->period_ticks = period;
	/* With VAL_SET, the first comparator write sets the first expiry
	 * and the second the period (as Linux does it). The interrupt is
	 * enabled only after both: QEMU arms the timer on every write, and
	 * enabled with a stale comparator it fired once and then, finding no
	 * period yet, stopped (seen as a single tick). */
	for (int tries = 0; tries < HPET_PERIODIC_TRIES; tries++) {
		u64 now, next;
		s64 ahead;

		set_cfg(0, TN_INT_ENB | TN_PERIODIC);
		/* The whole comparator first, in oneshot mode: QEMU splits a
		 * 64-bit write in two and applies VAL_SET to the low half only
		 * (its hpet.c says so in a FIXME), so after reset (comparator
		 * all ones) the high half stayed all ones, the comparator lay
		 * in the past, and QEMU stepped it forward by the "period"
		 * then in force, a counter reading: the first tick came up to
		 * that many ticks late (seen: one tick in 200 ms when no
		 * oneshot test had run before). */
		write_cmp(read_counter(NULL) + period);
		set_cfg(TN_PERIODIC | TN_VAL_SET, TN_INT_ENB);
		write_cmp(read_counter(NULL) + period);
		write_cmp(period);
		/* The comparator reads back the next expiry: further than a
		 * period away means it came due between the writes and was
		 * stepped by the wrong period (the vCPU held up for a period
		 * on a busy host); program it again. */
		now = read_counter(NULL);
		next = read_cmp();
		/* In the comparator's width; due but not yet advanced
		 * (QEMU's timer is late) is negative and fine. */
		ahead = ce_64 ? (s64)(next - now) : (s64)(s32)(u32)(next - now);
		if (ahead <= (s64)period)
			break;
	}
	set_cfg(TN_INT_ENB | TN_PERIODIC, 0);
	return 0;
}

static u64 programmed_cmp;

/* The comparator rules (hpet_cmp.c) reach the part through these; the
 * first counter read of a programming is bracketed by the TSC, to place
 * the event's due time. */
struct cmp_ctx {
	u64 a, b;
	int reads;
};

static u64 cmp_read(void *ctx)
{
	struct cmp_ctx *c = ctx;
	u64 a = rdtsc_ordered(), v = read_counter(NULL), b = rdtsc_ordered();

	if (c->reads++ == 0) {
		c->a = a;
		c->b = b;
	}
	return v;
}

static void cmp_write(void *ctx, u64 v)
{
	(void)ctx;
	write_cmp(v);
}

static struct hpet_cmp_dev cmp_dev = {
	.read_counter = cmp_read,
	.write_cmp = cmp_write,
	.margin = HPET_CMP_MARGIN,
};

static bool hpet_passed(struct clockevent *ce)
{
	(void)ce;
	return hpet_cmp_passed(read_counter(NULL), programmed_cmp, cmp_dev.width);
}

/* The comparator fires only on equality: if the counter passed it (or is
 * about to) while we were writing, the event is lost and we say so with
 * -ETIME, as Linux does; the caller tries again further ahead. */
static int hpet_next(struct clockevent *ce, u64 delta)
{
	struct cmp_ctx c = { 0 };
	u64 cfg;
	int rc;

	if (ce_route())
		return -EINVAL;
	cfg = timer_cfg();
	/*
	 * After a shutdown the comparator still holds the last event, long
	 * passed. Enabling the interrupt arms it: QEMU's HPET then fires one
	 * tick later (hw/timer/hpet.c: enabling calls hpet_set_timer, whose
	 * diff is 1 for a comparator behind the counter), during the
	 * programming below, and its interrupt looks like the new event come
	 * early with the count past the old comparator. Under icount that
	 * interrupt lands 10 ns on, every run (hpet.oneshot: one poll event
	 * at the minimum delta 1.9 us early by the TSC); in real time the
	 * main loop was usually slower than the programming. The comparator
	 * is moved half the range ahead first.
	 */
	if (!(cfg & TN_INT_ENB))
		write_cmp(read_counter(NULL) + (cmp_dev.width >= 64 ? 1ull << 62 : 1ull << 30));
	cfg_write(cfg, TN_INT_ENB, TN_PERIODIC);
	cmp_dev.ctx = &c;
	rc = hpet_cmp_program(&cmp_dev, delta, &programmed_cmp);
	ce->due_tsc = c.a + (c.b - c.a) / 2 + mul_div_u64(delta, tsc_hz(), info.freq_hz);
	ce->due_unc = (c.b - c.a) / 2;
	return rc;
}

static void hpet_shutdown(struct clockevent *ce)
{
	(void)ce;
	set_cfg(0, TN_INT_ENB | TN_PERIODIC);
	if (ce_routed && ce_legacy) {
		/* Mask first: giving IRQ0 back to the PIT makes an edge. */
		ioapic_mask_isa(0);
		hpet_write64(HPET_CONFIG, hpet_read64(HPET_CONFIG) & ~CONFIG_LEG_RT);
	} else if (ce_routed) {
		ioapic_mask_gsi(ce_gsi);
	}
	ce_routed = false;
}

static struct clockevent hpet_ce = {
	.name = "hpet",
	.rating = 90,
	.features = CE_ONESHOT,
	.min_delta = 192,		/* Linux's HPET minimum, in HPET cycles */
	.max_delta = 0x7FFFFFFF,
	.set_periodic = hpet_periodic,
	.set_next_event = hpet_next,
	.shutdown = hpet_shutdown,
	.passed = hpet_passed,
};

int hpet_clockevent_init(int nioapics, bool legacy, const char **why)
{
	u64 cfg, cap;
	int gsi = -1;

	*why = reason;
	if (!info.base || !clocksource_find("hpet")) {
		snprintf_(reason, sizeof(reason), "no working HPET");
		return -ENODEV;
	}
	if (!nioapics) {
		snprintf_(reason, sizeof(reason), "no IOAPIC to route comparator %d through",
			  HPET_CE_TIMER);
		return -ENODEV;
	}
	cfg = timer_cfg();
	cap = cfg >> 32;
	/* The highest input the route capability allows: above the ISA
	 * range (16-23) nothing else uses it. */
	for (int i = 23; i >= 0 && gsi < 0; i--)
		if (cap & (1u << i))
			gsi = i;
	if (gsi < 0 && !info.legacy_capable) {
		snprintf_(reason, sizeof(reason), "comparator %d allows no IOAPIC input (route "
			  "capability 0x%lx)", HPET_CE_TIMER, cap);
		return -ENODEV;
	}
	ce_gsi = (u32)gsi;
	ce_legacy = info.legacy_capable && (legacy || gsi < 16);
	ce_64 = (cfg & TN_SIZE_CAP) && info.width == 64;
	cmp_dev.width = ce_64 ? 64 : 32;
	if (cfg & TN_PERIODIC_CAP)
		hpet_ce.features |= CE_PERIODIC;
	ce_vector = irq_alloc(hpet_irq, NULL);
	if (ce_vector < 0) {
		snprintf_(reason, sizeof(reason), "no free interrupt vector");
		return -EIO;
	}
	hpet_shutdown(&hpet_ce);
	hpet_ce.freq_hz = info.freq_hz;
	if (ce_legacy)
		snprintf_(hpet_ce.route, sizeof(hpet_ce.route), "comparator %d, legacy replacement "
			  "(IRQ0), vector 0x%x", HPET_CE_TIMER, ce_vector);
	else
		snprintf_(hpet_ce.route, sizeof(hpet_ce.route), "comparator %d -> IOAPIC GSI %u, "
			  "vector 0x%x", HPET_CE_TIMER, ce_gsi, ce_vector);
	return clockevent_register(&hpet_ce);
}

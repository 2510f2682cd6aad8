/* The wrap extender (tick/clocksource.c) on the host: plain steps,
 * wraps, steps back, and the TSC-hinted extension across reads more than
 * half a wrap apart, up to many wraps and at the counter widths' edges,
 * with the counters of real boards (32-bit HPET at 14.31818 MHz, 24- and
 * 32-bit PM timers) over windows longer than their wraps. */
#include "tests/host/check.h"
#include "tick/clocksource.h"

static u64 fake_read(struct clocksource *cs)
{
	(void)cs;
	return 0;
}

static struct clocksource pit = { .name = "pit", .read = fake_read, .mask = 0xFFFF,
				  .freq_hz = 1193182 };
static struct clocksource wide = { .name = "tsc", .read = fake_read, .mask = ~0ull,
				   .freq_hz = 1000000000 };

static void test_plain(void)
{
	struct cs_extender e;

	cs_extend_start(&e, 0xFFF0);
	CHECK(cs_extend(&e, &pit, 0x0010) == 0x20 && e.wraps == 1);
	CHECK(cs_extend(&e, &pit, 0x0008) == 0x20 && e.backwards == 1 && e.back_max == 8);
	/* A step of more than half a wrap is taken for going back. */
	cs_extend_start(&e, 0);
	CHECK(cs_extend(&e, &pit, 0x9000) == 0 && e.backwards == 1 && e.back_max == 0x7000);
}

static void test_hint(void)
{
	struct cs_extender e;
	u64 range = 0x10000;

	/* Below half a wrap the hint changes nothing. */
	cs_extend_start(&e, 0x100);
	CHECK(cs_extend_hint(&e, &pit, 0x200, 0x100, 0) == 0x100 && e.missed == 0);
	/* 0.6 of a wrap away: the plain extender would go back; the hint
	 * counts it forward. */
	cs_extend_start(&e, 0);
	CHECK(cs_extend_hint(&e, &pit, 0x9999, 0x9999 + 5, 0) == 0x9999);
	CHECK(e.backwards == 0 && e.missed == 1 && e.wraps == 0);
	/* 2.3 wraps away: two whole wraps are added, and the raw wrap. */
	cs_extend_start(&e, 0xF000);
	CHECK(cs_extend_hint(&e, &pit, 0x3000, 2 * range + 0x4000 - 100, 0) == 2 * range + 0x4000);
	CHECK(e.wraps == 3 && e.missed == 2);
	/* The hint may be off by up to half a wrap either way. */
	cs_extend_start(&e, 0);
	CHECK(cs_extend_hint(&e, &pit, 0x1000, 5 * range + 0x1000 + range / 2 - 1, 0) ==
	      5 * range + 0x1000);
	cs_extend_start(&e, 0);
	CHECK(cs_extend_hint(&e, &pit, 0x1000, 5 * range + 0x1000 - range / 2 + 1, 0) ==
	      5 * range + 0x1000);
	/* A hint far beyond any plausible count does not overflow. */
	cs_extend_start(&e, 0);
	CHECK(cs_extend_hint(&e, &pit, 0, UINT64_MAX / 2, 0) % range == 0);
	/* The latch inside a read the host interrupted for 40 ms: by the
	 * brackets' midpoints only 20 ms passed (below half a wrap), but the
	 * brackets allow 40: the raw step of 0xBA00 counts forward. */
	cs_extend_start(&e, 0);
	CHECK(cs_extend_hint(&e, &pit, 0xBA00, 0x5D00, 0x5D00) == 0xBA00 && e.backwards == 0);
	/* Without the slack it would have been a step back. */
	cs_extend_start(&e, 0);
	CHECK(cs_extend_hint(&e, &pit, 0xBA00, 0x5D00, 0) == 0 && e.backwards == 1);
	/* Slack at the top of u64 does not wrap the test around. */
	cs_extend_start(&e, 0);
	CHECK(cs_extend_hint(&e, &pit, 0x10, 0x10, UINT64_MAX) == 0x10);
	/* A 64-bit counter never wraps: the hint is not used. */
	cs_extend_start(&e, 10);
	CHECK(cs_extend_hint(&e, &wide, 5, UINT64_MAX, 0) == 0 && e.backwards == 1);
}

/* The counters of real boards: a 32-bit HPET at 14.31818 MHz, 24- and
 * 32-bit PM timers at 3.579545 MHz. */
static struct clocksource hpet32 = { .name = "hpet", .read = fake_read, .mask = 0xFFFFFFFF,
				     .freq_hz = 14318180 };
static struct clocksource pm24 = { .name = "pm", .read = fake_read, .mask = 0xFFFFFF,
				   .freq_hz = 3579545 };
static struct clocksource pm32 = { .name = "pm", .read = fake_read, .mask = 0xFFFFFFFF,
				   .freq_hz = 3579545 };

/* A window of `steps` reads `every` ticks apart from raw `start`, each
 * with the true elapsed count as the hint (the TSC's, exact here):
 * returns the extended total, which must be steps * every. */
static u64 walk(struct clocksource *cs, u64 start, u64 every, int steps, struct cs_extender *e)
{
	u64 total = 0;

	cs_extend_start(e, start & cs->mask);
	for (int i = 1; i <= steps; i++)
		total = cs_extend_hint(e, cs, (start + every * i) & cs->mask, every, 0);
	return total;
}

static void test_real_parts(void)
{
	struct cs_extender e;

	/* Wrap periods: 299.966 s, 4.687 s, 1199.86 s; never for 64 bits. */
	CHECK(cs_wrap_ns(&hpet32) / 1000000 == 299966);
	CHECK(cs_wrap_ns(&pm24) / 1000000 == 4686);
	CHECK(cs_wrap_ns(&pm32) / 1000000 == 1199864);
	CHECK(cs_wrap_ns(&wide) == UINT64_MAX);
	/* The last tick before the wrap and the first after. */
	cs_extend_start(&e, 0xFFFFFFFF);
	CHECK(cs_extend(&e, &hpet32, 0) == 1 && e.wraps == 1 && e.backwards == 0);
	/* Exactly half the range forward still counts; one more is back. */
	cs_extend_start(&e, 0);
	CHECK(cs_extend(&e, &hpet32, 0x7FFFFFFF) == 0x7FFFFFFF && e.backwards == 0);
	cs_extend_start(&e, 0);
	CHECK(cs_extend(&e, &hpet32, 0x80000000) == 0 && e.backwards == 1);
	/* A 32-bit HPET read every 200 s (more than half its wrap): the
	 * plain extender sees steps back, the hinted one every tick. */
	CHECK(walk(&hpet32, 0xFFFF0000, 200ull * 14318180, 6, &e) == 6 * 200ull * 14318180);
	CHECK(e.backwards == 0 && e.wraps == 5);
	cs_extend_start(&e, 0);
	CHECK(cs_extend(&e, &hpet32, (200ull * 14318180) & 0xFFFFFFFF) == 0 && e.backwards == 1);
	/* Three whole wraps and ten ticks between two reads. */
	cs_extend_start(&e, 5);
	CHECK(cs_extend_hint(&e, &hpet32, 15, 3 * (1ull << 32) + 10, 0) == 3 * (1ull << 32) + 10);
	/* A 24-bit PM timer over the longest calibration window (cal_ms=
	 * 10000), read every 3 s (more than half its 4.69 s wrap). */
	CHECK(walk(&pm24, 0xFFFFF0, 3 * 3579545ull, 4, &e) == 12 * 3579545ull && e.backwards == 0);
	/* A 32-bit PM timer read 700 s apart, across its 1200 s wrap. */
	CHECK(walk(&pm32, 0xF0000000, 700 * 3579545ull, 3, &e) == 2100 * 3579545ull);
	CHECK(e.wraps == 2 && e.backwards == 0);
	/* A day of a 24-bit PM timer in 2 s reads: no hint needed. */
	cs_extend_start(&e, 0);
	for (u64 i = 1; i <= 43200; i++)
		cs_extend(&e, &pm24, (i * 2 * 3579545ull) & 0xFFFFFF);
	CHECK(e.total == 86400 * 3579545ull && e.backwards == 0);
}

/*
 * How the PIT "stepped backwards" in a loaded KVM calibration: the hint
 * comes from the early ruler, which is fast by however long the vCPU was
 * away as channel 2's output rose (drivers/tsc.c). 30 ms away between two
 * reads (35795 ticks) by a ruler 2.5x fast (15 ms away in its 10 ms) is a
 * hint of 14318: small enough for the plain extender, which takes the raw
 * step for 29741 back and loses it. With the ruler the other counters
 * give, the same reads count.
 */
static void test_fast_early_ruler(void)
{
	struct cs_extender e;
	u64 away = 35795, slack = 40;

	cs_extend_start(&e, 0x1000);
	cs_extend_hint(&e, &pit, (0x1000 + away) & 0xFFFF, away * 2 / 5, away * 2 / 5 + slack);
	CHECK(e.backwards == 1 && e.back_max == 0x10000 - away && e.total == 0);
	cs_extend_start(&e, 0x1000);
	CHECK(cs_extend_hint(&e, &pit, (0x1000 + away) & 0xFFFF, away, away + slack) == away);
	CHECK(e.backwards == 0);
}

int main(void)
{
	test_plain();
	test_hint();
	test_real_parts();
	test_fast_early_ruler();
	return check_report("test_extend");
}

/* The wrap extender (tick/clocksource.c) on the host: plain steps,
 * wraps, steps back, and the TSC-hinted extension across reads more than
 * half a wrap apart, up to many wraps and at the counter widths' edges. */
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

int main(void)
{
	test_plain();
	test_hint();
	return check_report("test_extend");
}

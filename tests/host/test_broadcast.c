/* The broadcast-device choice (tick/broadcast.c) on the host: with and
 * without ARAT, with the HPET, the PIT or neither, in oneshot and
 * periodic mode, as Linux's tick-broadcast would choose. */
#include "tests/host/check.h"
#include "tick/broadcast.h"

static struct clockevent deadline = { .name = "tscdeadline", .rating = 150,
				      .features = CE_ONESHOT | CE_DEADLINE | CE_PERCPU };
static struct clockevent lapic = { .name = "lapic", .rating = 100,
				   .features = CE_PERIODIC | CE_ONESHOT | CE_PERCPU };
static struct clockevent hpet = { .name = "hpet", .rating = 90, .features = CE_ONESHOT };
static struct clockevent pit = { .name = "pit", .rating = 80,
				 .features = CE_PERIODIC | CE_ONESHOT };
static struct clockevent rtc = { .name = "rtc", .rating = 10, .features = CE_PERIODIC };

static void set_arat(bool arat)
{
	deadline.features = (deadline.features & ~CE_C3STOP) | ce_c3stop_unless_arat(arat);
	lapic.features = (lapic.features & ~CE_C3STOP) | ce_c3stop_unless_arat(arat);
}

int main(void)
{
	struct clockevent *all[] = { &deadline, &lapic, &hpet, &pit, &rtc };
	struct clockevent *no_hpet[] = { &deadline, &lapic, &pit, &rtc };
	struct clockevent *only_rtc[] = { &lapic, &rtc };
	struct tick_broadcast b;

	/* With ARAT the LAPIC timer runs on: nothing to pick. */
	set_arat(true);
	CHECK(tick_broadcast_pick(&deadline, true, all, 5, &b) == 0 && !b.needed && !b.dev);
	/* A global tick device never needs one. */
	set_arat(false);
	CHECK(tick_broadcast_pick(&hpet, true, all, 5, &b) == 0 && !b.needed);
	CHECK(tick_broadcast_pick(NULL, true, all, 5, &b) == 0 && !b.needed);
	/* Without ARAT: the highest-rated global device, never a per-CPU
	 * one (the TSC-deadline timer stops too). */
	CHECK(tick_broadcast_pick(&deadline, true, all, 5, &b) == 0 && b.needed && b.dev == &hpet);
	CHECK(tick_broadcast_pick(&lapic, true, no_hpet, 4, &b) == 0 && b.dev == &pit);
	/* The RTC only ticks periodically: fine for a periodic tick, not
	 * for a oneshot one. */
	CHECK(tick_broadcast_pick(&lapic, true, only_rtc, 2, &b) == -ENODEV && b.needed && !b.dev);
	CHECK(b.why && strstr(b.why, "oneshot"));
	CHECK(tick_broadcast_pick(&lapic, false, only_rtc, 2, &b) == 0 && b.dev == &rtc);
	/* A global device that stops in C-states itself is no help. */
	hpet.features |= CE_C3STOP;
	CHECK(tick_broadcast_pick(&lapic, true, all, 5, &b) == 0 && b.dev == &pit);
	hpet.features &= ~CE_C3STOP;
	/* No devices at all. */
	CHECK(tick_broadcast_pick(&lapic, true, all, 0, &b) == -ENODEV);
	return check_report("test_broadcast");
}

/* Waiting for a clockevent's next event by polling the TSC, and the
 * second device that bounds a halted wait. It must not judge what it
 * waited for (the tests do), and every wait it makes has a bound. */
#include "event_wait.h"
#include "arch-x86/cpu.h"
#include "lib/math.h"

bool wait_event(struct clockevent *ce, u64 after, u64 end, struct poll_stats *ps,
		struct watch *w)
{
	u64 first = w ? watch_poll(w) : rdtsc_ordered(), now = first, polls = 1;
	bool got = true;

	while (ce->events <= after) {
		now = w ? watch_poll(w) : rdtsc_ordered();
		polls++;
		if (now > end + (w ? w->cpu.cycles : 0)) {
			got = false;
			break;
		}
	}
	if (ps)
		*ps = (struct poll_stats){ polls, now - first };
	return got;
}

/* The "lapic" and "tscdeadline" clockevents are one LVT, and the HPET in
 * legacy-replacement mode takes the PIT's IRQ0: a per-CPU device is
 * bounded by a global one and the other way round. */
struct clockevent *backstop_for(const struct clockevent *ce)
{
	static const char *const percpu[] = { "tscdeadline", "lapic" };
	static const char *const global[] = { "hpet", "pit" };
	const char *const *names = ce->features & CE_PERCPU ? global : percpu;

	for (int i = 0; i < 2; i++) {
		struct clockevent *b = clockevent_find(names[i]);

		if (b && b != ce && (b->features & CE_ONESHOT))
			return b;
	}
	return NULL;
}

bool arm_backstop(struct clockevent *bs, u64 ns)
{
	u64 ticks = mul_div_u64(ns, bs->freq_hz, 1000000000ull);

	bs->handler = NULL;
	return clockevent_program(bs, ticks) == 0;
}

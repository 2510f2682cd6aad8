/* Whether the tick needs a broadcast device (the LAPIC timer without
 * ARAT stops in deep C-states) and which the tick layer would pick. */
#define TEST_ORDER_BASE 300	/* after walltime_test.c's tick tests */
#include "test.h"
#include "arch-x86/cpuinfo.h"
#include "absence.h"
#include "arch-x86/cpu.h"
#include "event_wait.h"
#include "report/ktap.h"
#include "lib/math.h"
#include "tick/broadcast.h"

#define BC_EVENT_NS	1000000ull	/* the picked device's oneshot: 1 ms ... */
#define BC_WAIT_NS	1000000000ull	/* ... waited for 1 s of this vCPU's presence */

/* The picked device delivers: one oneshot event, waited for under watch
 * (time the host kept this vCPU away does not count against the bound).
 * An interrupt the device's own count says is not yet due (a stale edge
 * on the line it was just routed to) does not count; *stale says how
 * many came. */
static bool delivers(struct clockevent *d, u64 *took_ns, u64 *stale)
{
	struct watch w;
	u64 start, end, seen;
	bool ok = false, check = d->check_passed;

	d->handler = NULL;
	d->check_passed = true;
	*stale = 0;
	watch_begin(&w, ns_to_tsc(BC_EVENT_NS), false);
	seen = d->events;
	start = rdtsc_ordered();
	end = start + ns_to_tsc(BC_WAIT_NS);
	if (clockevent_program(d, mul_div_u64(BC_EVENT_NS, d->freq_hz, 1000000000ull)) == 0) {
		while (wait_event(d, seen, end, NULL, &w)) {
			seen = d->events;
			if (d->irq_passed) {
				ok = true;
				break;
			}
			(*stale)++;
		}
	}
	*took_ns = tsc_to_ns(rdtsc_ordered() - start);
	watch_end(&w);
	d->shutdown(d);
	d->check_passed = check;
	return ok;
}

TEST(tick, broadcast)
{
	struct clockevent *devs[CE_MAX], *tick = clockevent_best(CE_ONESHOT);
	struct tick_broadcast b;
	int n = 0, rc;

	if (!tick)
		return skip("no oneshot clockevent to tick on");
	for (int i = 0; i < clockevent_count() && n < CE_MAX; i++)
		devs[n++] = clockevent_get(i);
	rc = tick_broadcast_pick(tick, true, devs, n, &b);
	diag("ARAT %s; tick device %s%s: %s", env->cpu->arat ? "yes" : "no", tick->name,
	     tick->features & CE_C3STOP ? " (stops in deep C-states)" : "", b.why);
	measure("tick.broadcast_needed", b.needed, 0, NULL);
	if (rc)
		return fail("%s stops in deep C-states and %s (tickscope idles in HLT, C1, where "
			    "it runs)", tick->name, b.why);
	if (b.dev) {
		u64 took, stale;

		diag("broadcast from %s (rating %d)", b.dev->name, b.dev->rating);
		if (!delivers(b.dev, &took, &stale))
			return fail("%s, the broadcast device, did not deliver a %llu ms oneshot event "
				    "within %llu ms of this vCPU's presence (%lu -ETIME)", b.dev->name,
				    BC_EVENT_NS / 1000000, BC_WAIT_NS / 1000000, b.dev->etime);
		diag("%s delivered a 1 ms oneshot event after %lu us (%lu stale interrupts before it)",
		     b.dev->name, took / 1000, stale);
	}
	return PASS;
}

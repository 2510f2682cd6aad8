/* Whether the tick needs a broadcast device (the LAPIC timer without
 * ARAT stops in deep C-states) and which the tick layer would pick. */
#define TEST_ORDER_BASE 300	/* after walltime_test.c's tick tests */
#include "test.h"
#include "arch-x86/cpuinfo.h"
#include "report/ktap.h"
#include "tick/broadcast.h"

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
	if (b.dev)
		diag("broadcast from %s (rating %d)", b.dev->name, b.dev->rating);
	return PASS;
}

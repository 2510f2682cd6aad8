/* What the tick tests share: each starts and stops its own tick. */
#ifndef TESTS_TICK_TEST_H
#define TESTS_TICK_TEST_H

#include "test.h"
#include "tick/tick.h"

struct tick_setup {
	struct clockevent *ce;
	struct clocksource *cs;
	u64 hz;
	bool halt;		/* HLT is bounded by the watchdog */
};

/* Starts the periodic tick on the device (clockevent=, else the best with
 * the modes needed) with timekeeping on the clocksource (clocksource=,
 * else the best) at HZ, wall time seeded from the RTC. Returns PASS, or
 * the verdict to return (SKIP without a device, ERROR when refused). */
enum verdict tick_test_start(struct test_env *env, struct tick_setup *t, bool need_oneshot);
/* Stops it (and resumes the watchdog if the tick used its timer). */
void tick_test_stop(struct tick_setup *t);
/* Busy-waits ns by the TSC (interrupts on). */
void tick_test_run_for(u64 ns);
/*
 * tick.walltime (walltime_test.c) inside another test's run of the tick:
 * walltime_begin, as the tick starts, seeds its wall time at an RTC edge
 * caught earlier in the run (when one can serve); walltime_end, before
 * the tick stops, reads it against the next edge once the tick has run
 * long enough, and tick.walltime then judges that reading without running
 * the tick again. Either does nothing when it cannot.
 */
void walltime_begin(struct test_env *env, const struct tick_setup *t);
void walltime_end(void);
/*
 * tick.timers (tick_oneshot_test.c) inside tick.switch's run of the tick:
 * on the oneshot tick t already runs, runs tick.timers' rounds of timers
 * for tick.timers to judge without running the tick again. Returns false,
 * having run nothing it keeps, when tick.timers is not selected or the
 * timer queue refused the timers (tick.timers then runs its own tick).
 */
bool timers_in_run(struct test_env *env, struct tick_setup *t);

#endif

/*
 * Waiting for a clockevent's next event by polling (each poll an ordered
 * TSC read), and the second device that bounds a halted wait (STI;HLT,
 * tests/oneshot_sample.c), armed past the bound, since only an interrupt
 * ends a HLT.
 */
#ifndef TESTS_EVENT_WAIT_H
#define TESTS_EVENT_WAIT_H

#include "absence.h"
#include "tick/clockevent.h"

/* What polling cost while waiting: TSC reads, and the time they spanned. */
struct poll_stats {
	u64 polls, cycles;
};

/* Polls until ce's event count passes `after` (true) or the TSC passes
 * `end` (false); what the polls cost goes to *ps unless it is NULL. With
 * w, each poll is a watch_poll and `end` moves on by the time this vCPU
 * was away (the bound counts its presence). */
bool wait_event(struct clockevent *ce, u64 after, u64 end, struct poll_stats *ps,
		struct watch *w);

/* The oneshot device that can bound a halted wait on ce (one sharing no
 * hardware with it), or NULL when there is none. */
struct clockevent *backstop_for(const struct clockevent *ce);

/* Arms bs (with no handler) to fire ns from now, as near as its range
 * allows; false when the device refused. */
bool arm_backstop(struct clockevent *bs, u64 ns);

#endif

/*
 * Clockevents: devices that raise an interrupt at a programmed time,
 * shaped as Linux's struct clock_event_device. Drivers fill one in and
 * register it; the tick layer and the tests pick them by rating and
 * features. Handlers run in interrupt context.
 */
#ifndef TICK_CLOCKEVENT_H
#define TICK_CLOCKEVENT_H

#include "lib/types.h"

#define CE_MAX		8

#define CE_PERIODIC	(1u << 0)	/* can interrupt at a fixed rate */
#define CE_ONESHOT	(1u << 1)	/* can interrupt once after a delta */
#define CE_DEADLINE	(1u << 2)	/* oneshot is an absolute TSC deadline */
#define CE_PERCPU	(1u << 3)	/* one per CPU (LAPIC) */
#define CE_C3STOP	(1u << 4)	/* stops in deep C-states (LAPIC without ARAT) */
#define CE_LEGACY_RT	(1u << 5)	/* takes IRQ0 and IRQ8 from the PIT and the RTC
					 * while it runs (HPET legacy replacement) */

#define ETIME		62		/* programmed event already passed */

struct clockevent {
	const char *name;	/* pit, lapic, tscdeadline, hpet, rtc */
	int rating;		/* Linux's scale */
	u32 features;
	u64 freq_hz;		/* ticks per second of set_next_event's delta */
	u64 min_delta, max_delta;	/* ticks */
	/* Interrupts at hz (rounded to what the device can do); returns 0
	 * or -EINVAL. The exact rate is left in period_mhz. */
	int (*set_periodic)(struct clockevent *ce, u64 hz);
	/* One interrupt delta ticks from now; -ETIME when the device says
	 * the time already passed (the event is lost, as for HPET). */
	int (*set_next_event)(struct clockevent *ce, u64 delta);
	/* No more interrupts. */
	void (*shutdown)(struct clockevent *ce);

	/* Set by the user of the device; called from the interrupt. */
	void (*handler)(struct clockevent *ce);
	void *ctx;
	volatile u64 irq_tsc;	/* TSC read first thing in the interrupt */
	volatile u64 events;	/* interrupts taken */
	/* Where the last oneshot event was due, in TSC (0 = unknown), as
	 * the driver computed it while programming. */
	u64 due_tsc;
	u64 due_unc;		/* how well due_tsc is known (± cycles) */
	u64 period_mhz;		/* exact periodic rate programmed, mHz */
	u64 period_ticks;	/* the same as a count of freq_hz ticks */
	/*
	 * Optional: true when the device's own count says the event last
	 * given to set_next_event has come (the PIT's count through 0, the
	 * HPET's main counter at its comparator, the LAPIC's count at 0, the
	 * TSC at the deadline). With check_passed set (a test asks: it costs
	 * a device read in the interrupt) clockevent_irq asks it first thing
	 * and keeps the answer in irq_passed.
	 */
	bool (*passed)(struct clockevent *ce);
	bool check_passed;
	volatile bool irq_passed;
	char route[80];		/* how the interrupt arrives, for the report */
	u64 etime;		/* clockevent_program tries refused with -ETIME */
};

/* Adds ce; -EINVAL when malformed or the table is full. */
int clockevent_register(struct clockevent *ce);
struct clockevent *clockevent_find(const char *name);
/* Number registered, and the i-th in registration order (NULL past it). */
int clockevent_count(void);
struct clockevent *clockevent_get(int i);
/* The highest-rated device with all of `features`, or NULL. */
struct clockevent *clockevent_best(u32 features);
/*
 * Programs ce delta ticks ahead (clamped to min_delta..max_delta) and
 * makes sure the event comes: on -ETIME (the device says it is already
 * due and lost, as an HPET comparator written behind its counter) the
 * delta is doubled and tried again, at most CE_ETIME_TRIES times and
 * never past max_delta, so the event comes later than asked rather than
 * never (Linux's clockevents_program_min_delta grows its delta the same
 * way). Every refusal is counted in ce->etime. Returns 0, or -ETIME when
 * the last try was refused too.
 */
#define CE_ETIME_TRIES	10
int clockevent_program(struct clockevent *ce, u64 delta);

/*
 * The device's interrupt entry: drivers call it first thing in their
 * interrupt handler (it stamps irq_tsc, counts, calls the handler).
 */
void clockevent_irq(struct clockevent *ce, u64 tsc);

#endif

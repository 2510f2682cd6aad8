/*
 * The tick: a periodic interrupt at HZ driving jiffies and timekeeping,
 * and its runtime switch to oneshot (high-resolution) mode, where the
 * device is programmed for the next software timer and the periodic tick
 * is emulated as one of them. One tick (this CPU's) at a time.
 */
#ifndef TICK_TICK_H
#define TICK_TICK_H

#include "clockevent.h"
#include "timekeeping.h"
#include "timer.h"

#define HZ_DEFAULT	250
#define HZ_MIN		100
#define HZ_MAX		1000
#define TICK_MAX_TIMERS	256
#define TICK_RETRIES	3		/* as Linux's hrtimer_interrupt */
#define TICK_BACKOFF_MAX_NS 100000000ull
/* How far past its end an idle may run, by the TSC, before it gives up
 * on the clocksource (tick_stats()->idle_overruns counts it). */
#define TICK_IDLE_BACKSTOP_NS 1000000000ull

struct tick_stats {
	u64 irqs;		/* device interrupts taken */
	u64 late;		/* programming found the event already due */
	u64 backoffs;		/* gave up after TICK_RETRIES and backed off */
	u64 catchup;		/* jiffies caught up because a tick (or an idle
				 * wake-up) came more than a period late */
	u64 idle_updates;	/* timekeeping folded in while idle */
	u64 idle_overruns;	/* idles ended by the TSC backstop */
	u64 idle_irqs;		/* interrupts taken while idle (oneshot mode) */
	u64 idle_stale;		/* of those, the ones a quarter period
				 * or more before the event then programmed was
				 * due: an earlier programming's, delivered late */
};

/*
 * Starts the periodic tick at hz on ce, with timekeeping on cs (wall
 * time starting at wall_ns). jiffies start at 0. Returns 0, or -EINVAL
 * when ce cannot tick periodically at that rate.
 */
int tick_start(struct clockevent *ce, struct clocksource *cs, u64 hz, u64 wall_ns);
/*
 * Switches a running periodic tick to oneshot mode: the next jiffy falls
 * where the periodic tick would have put it, so jiffies stay continuous.
 * Returns 0, or -EINVAL when the device has no oneshot mode.
 */
int tick_switch_oneshot(void);
/* Stops the device and the tick. */
void tick_stop(void);

u64 tick_jiffies(void);
/*
 * Called from a software timer: when the device's event whose interrupt
 * is running it was due, by the driver's reckoning (ce->due_tsc), with
 * the interrupt's arrival in *at (TSC both). 0 when the timer is not run
 * from a oneshot interrupt or the driver does not know. A timer due
 * before the arrival waited that long for the device's delivery (under a
 * hypervisor, its host threads), not for the tick.
 */
u64 tick_irq_due_tsc(u64 *at);
/* Monotonic ns at which jiffies were last advanced (by the periodic tick
 * or the emulated one, in its handler). */
u64 tick_last_ns(void);
/* The exact tick period in ns (the device's rate, not 1e9 / HZ). */
u64 tick_period_ns(void);
/* Monotonic and wall ns now. */
u64 tick_now_ns(void);
u64 tick_wall_ns(void);
const struct tick_stats *tick_stats(void);
/* Sets wall time to wall_ns at monotonic mono_ns (a reading of
 * tick_now_ns), so that it can be seeded at a known instant. */
void tick_set_wall(u64 wall_ns, u64 mono_ns);

/* Queues t for t->expires (monotonic ns); in oneshot mode the device is
 * reprogrammed when t becomes the first. -ERANGE when the queue is full. */
int tick_add_timer(struct swtimer *t);
bool tick_del_timer(struct swtimer *t);
/* Takes every queued timer whose callback is fn off the queue at once
 * (the device stays programmed as it was, as after tick_del_timer);
 * returns how many. */
int tick_del_timers(void (*fn)(struct swtimer *t, u64 now));

/*
 * Idles until monotonic ns `until`. In oneshot mode the emulated tick is
 * stopped meanwhile (no interrupts but the wake-up and real timers) and
 * jiffies are caught up after. No stretch of idle is longer than
 * tick_max_idle_ns(): the wake-up is re-armed and timekeeping folded in at
 * least that often, so that a narrow clocksource cannot wrap unseen. The
 * TSC bounds the whole idle to TICK_IDLE_BACKSTOP_NS past `until`. halt
 * says whether HLT may be used (halts are accounted as the CPU's own, see
 * steal_halt); otherwise the CPU spins with PAUSE.
 */
void tick_idle_until(u64 until, bool halt);
/* Linux's max_idle_ns for the running tick's clocksource: half its range
 * (at 11 % fast), so a wrap is never missed while idle. */
u64 tick_max_idle_ns(void);

#endif

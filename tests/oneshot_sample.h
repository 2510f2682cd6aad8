/*
 * Oneshot samples of one or more clockevents taken in one window, each
 * device on its own vector: programmed together, waited for together
 * (polling or halted) under watch for the host's absences, and each told
 * apart from the interrupts that are not its own. An interrupt stamped
 * before the event was programmed, or one before the device's own count
 * reached the event (clockevent.passed) while an earlier event is
 * outstanding, is stale; one before the device's count with none
 * outstanding is early by the device's count. A sample the host held up
 * is spoiled and taken again (bounded; after that kept with the time the
 * host held it up taken off); one another device of the window may have
 * held up is counted as disturbed.
 */
#ifndef TESTS_ONESHOT_SAMPLE_H
#define TESTS_ONESHOT_SAMPLE_H

#include "lib/stats.h"
#include "tick/clockevent.h"

/* An event not come this long after it was due (of this vCPU's presence,
 * polling) is lost. Emulators run device timers in a thread of their own,
 * which a busy host was seen to hold up for 250 ms (TCG, load 8 on 2
 * cores): late, and reported as such, but not lost. */
#define ONESHOT_WAIT_NS		1000000000ul	/* beyond the delta: 1 s */
/* oneshot_plant=early makes one event per waiting mode seem this early. */
#define ONESHOT_PLANT_NS	100000000ul
#define DRAIN_NS		2000000ul	/* for a missed (-ETIME) event */
/* Samples taken again per device and waiting mode, at most, when the host
 * spoils them; after that they are kept (the host's time taken off). */
#define ONESHOT_REMEASURE	64
/* A series short of this many samples goes on past its stop, up to its
 * min_span after it began (struct oneshot_dev). */
#define ONESHOT_MIN_KEPT	8
/* Devices in one window, at most. */
#define ONESHOT_GROUP		4

enum wait_mode { WAIT_POLL, WAIT_HALT };

/* A fault planted by oneshot_plant=, once per waiting mode: an event that
 * comes early by the TSC, one never raised, or (early_count) an interrupt
 * judged before the event's own halfway to its due time, the device's
 * count short of it and its output high: a device that raised its event
 * before its count reached it. */
enum plant { PLANT_NONE, PLANT_EARLY, PLANT_LOST, PLANT_EARLY_COUNT };

/* What one programmed event came to. */
enum sample_outcome { SAMPLE_OK, SAMPLE_MISSED, SAMPLE_LOST, SAMPLE_SPOILED };

/* Events programmed and not seen, which may still be on their way: a
 * missed one (-ETIME) not seen within DRAIN_NS, or one given up as lost.
 * The device is stopped then; what is already raised can still arrive,
 * and is expected until TSC `until` (ONESHOT_WAIT_NS after the last).
 * `seen` is the device's interrupt count when the last sample ended (0
 * before the first): what comes after it and before the next sample is
 * programmed is stale too (a second interrupt for one event). */
struct outstanding {
	int n;
	u64 until;
	u64 seen;
};

/* The first interrupt of a series not taken for its event as early by
 * the device's count, or as one the device raised no edge for: what it
 * looked like, so that it explains itself (oneshot.c prints it). */
struct irq_note {
	bool set, not_raised;	/* which of the two */
	bool planted;		/* oneshot_plant=early_count's */
	u64 ticks;		/* the count programmed */
	s64 after_prog;		/* cycles from the programming's start to its stamp */
	s64 after_prog_end;	/* ... from the programming's end (negative: during it) */
	s64 before_due;		/* ... to the due time */
	int count, out;		/* the PIT's count and OUT read in it (-1: none) */
	u64 nirq;		/* the device's interrupts in that sample, this one included */
	/* the device's programming before it */
	u64 prev_ticks;
	s64 prev_ago;		/* cycles from it to this programming (0: none this window) */
	s64 prev_irq_ago;	/* cycles from its interrupt to this programming (0: none) */
	const char *prev_how;
};

/* What one waiting mode's series of oneshot events came to; latencies go
 * to lat[0..n), poll steps to step[0..nstep) (poll), at most max each. */
struct oneshot_counts {
	enum wait_mode mode;
	enum plant plant;	/* oneshot_plant=: to plant in this series, once */
	int n, nstep, max, tries, early, missed, lost, fired, stale;
	int missed_slow;	/* of the missed, those whose programming itself took
				 * longer than their delta: the vCPU was held up */
	int early_by_count;	/* interrupts before the device's own count reached
				 * the event, none outstanding */
	int not_raised;		/* of the stale, interrupts while the device's output
				 * said this programming had raised no edge (the PIT's
				 * OUT still low): an earlier edge delivered late */
	int extra;		/* of the stale, interrupts after a sample's event
				 * within its round */
	struct irq_note note;
	/* The first interrupt after a sample's event within its round: how
	 * long after the event's, and what the device read in each. */
	struct {
		bool set;
		s64 after;		/* cycles after the event's interrupt */
		s64 after_due;		/* cycles after the event's due time */
		bool passed;
		int count, out, event_count;
	} extra_note;
	int remeasured;		/* samples taken again: the host held them up */
	int excused;		/* of the samples kept, those the host held up */
	int disturbed;		/* samples kept that another device of the window (its
				 * interrupt, or its programming) may have held up */
	int unjudged;		/* never came while the host was away for most of
				 * the wait, after the re-measurements ran out */
	u64 *lat, *step;
	struct outstanding *out;	/* shared by both modes */
	s64 worst_early;	/* cycles, negative */
	s64 early_after;	/* the worst early one: cycles after programming began */
	u64 others;		/* halt: HLTs ended by an interrupt of no device waited for */
	u64 ns;			/* how long the series took */
	u64 given_back_ns;	/* of it, the spoiled rounds' time its stop moved on by */
	u64 guard_ns;		/* the interference guard (the largest of the rounds) */
	u64 stagger_ns;		/* places apart in a round (the largest) */
	struct summary lat_sum, step_sum;
};

/* One device in a window: its series (counts c, at most `want` samples
 * until TSC `stop`, `budget` cycles after it began, which a round that
 * spoiled its sample moves on by the round's time, by at most `give_back`
 * cycles in all; with `pace`, it ends once that much of its budget is
 * spent if its samples so far, at their pace, would not reach half its
 * `want` by the stop; short of ONESHOT_MIN_KEPT samples it goes on past
 * the stop until `min_span` cycles after it began, TSC `floor`) and the
 * sample in flight. */
struct oneshot_dev {
	struct clockevent *ce;
	struct oneshot_counts *c;
	int want;
	u64 stop, budget, give_back, pace, min_span, floor;
	u64 ran_until;		/* TSC at the end of its last round (0: none yet) */
	/* Optional (n > 1): the samples of its solo rounds (alone in the
	 * window) and of its shared ones, kept as well to compare them;
	 * at most c->max each. */
	u64 *solo, *shared;
	int nsolo, nshared;
	/* the sample in flight (oneshot_sample.c) */
	u64 before, prog, prog_end, end;
	u64 irq, due, unc;	/* its event's stamp, due time and uncertainty, kept
				 * when it came (the device may be armed again) */
	bool waiting, armed, planted, got, backstop;
	bool plant_count;	/* PLANT_EARLY_COUNT in this sample, not yet judged */
	bool pit;		/* it is the PIT (it cannot bound others' HLTs:
				 * oneshot_sample.c can_backstop), set per window */
	u64 bs_events;		/* its count when armed as the backstop */
	u64 bs_first;		/* ... the first time in the round (0: not armed) */
	u64 first;		/* its count when the sample was programmed */
	/* its programming before the one in flight (irq_note) */
	u64 last_prog, last_ticks, last_irq;
	const char *last_how;
	u64 ticks;		/* the one in flight's count */
};

/*
 * Takes the series of g[0..n) (n <= ONESHOT_GROUP; devices that may run
 * at once: no two sharing hardware) in one window of c->mode: rounds of
 * one sample per device still short of its want and before its stop, at
 * deltas_ns[round % 4] plus stagger_ns per place in the round. With n > 1
 * blocks of four rounds (one of each delta) are solo, one device alone:
 * blocks 1..n, then every 4n blocks again, so that each device has early
 * on samples alone taken in the same window, under the same host, as its
 * shared ones (an eighth of its rounds for two devices). A halted
 * wait is bounded by bs (a device of none of g, armed past the loss bound;
 * NULL when n > 1: the devices then bound each other). Each c must be
 * zeroed but for mode, plant, max, lat, step and out. A round whose
 * sample of a device the host spoiled (held up: taken again, or never
 * come while the host was away) gives its time back to that device's
 * stop, up to its give_back in all: a series on a loaded host, every
 * halted sample spoiled by steal time, was cut short by its time budget
 * with nothing kept. Once nothing is left to give back, a sample the host
 * held up is kept with that time taken off, as after ONESHOT_REMEASURE;
 * a series short of ONESHOT_MIN_KEPT samples goes on past its stop (up to
 * its floor). idle, when not NULL, is called before each round (no sample
 * in flight) and returns the TSC cycles it took, by which every device's
 * stop moves on: other work that must be done at a given time (an RTC
 * edge waited for) fits in between rounds without taking samples from
 * the series.
 */
void oneshot_window(struct oneshot_dev *g, int n, const u64 *deltas_ns, u64 stagger_ns,
		    struct clockevent *bs, u64 (*idle)(void));

#endif

/*
 * Software timers: a binary min-heap ordered by expiry, O(log n) insert
 * and removal (each timer knows its slot). Pure logic: the tick layer
 * drives it with its own notion of now; unit-tested on the host.
 */
#ifndef TICK_TIMER_H
#define TICK_TIMER_H

#include "lib/types.h"

struct swtimer {
	u64 expires;		/* ns, on the caller's clock */
	void (*fn)(struct swtimer *t, u64 now);
	void *ctx;
	u64 seq;		/* insertion order: ties fire first-in first */
	int slot;		/* heap index, -1 when not queued */
};

struct timer_queue {
	struct swtimer **heap;
	int size, capacity;
	u64 seq;
};

/* Prepares a timer that is not queued. */
static inline void swtimer_init(struct swtimer *t, void (*fn)(struct swtimer *, u64), void *ctx)
{
	t->expires = 0;
	t->fn = fn;
	t->ctx = ctx;
	t->seq = 0;
	t->slot = -1;
}

/* Uses storage[0..capacity) as the heap. */
void timerq_init(struct timer_queue *q, struct swtimer **storage, int capacity);
/* Queues t (re-queues it when already queued); -ERANGE when full. */
int timerq_add(struct timer_queue *q, struct swtimer *t);
/* Removes t when queued; returns whether it was. */
bool timerq_del(struct timer_queue *q, struct swtimer *t);
/* Removes every queued timer whose callback is fn, rebuilding the heap
 * once (not a sift per timer); returns how many it removed. */
int timerq_del_fn(struct timer_queue *q, void (*fn)(struct swtimer *t, u64 now));
/* The earliest timer, or NULL. */
struct swtimer *timerq_peek(const struct timer_queue *q);
/* Removes and calls every timer with expires <= now, earliest first
 * (ties in the order they were added); returns how many ran. A timer its
 * fn re-adds for a time <= now runs again, within a bound of twice the
 * queue's size. */
int timerq_run(struct timer_queue *q, u64 now);

#endif

/* The software-timer heap. Pure logic (host-tested): it must not know
 * about interrupts or devices; the tick drives it with its own now. */
#include "timer.h"

static bool earlier(const struct swtimer *a, const struct swtimer *b)
{
	return a->expires < b->expires || (a->expires == b->expires && a->seq < b->seq);
}

static void place(struct timer_queue *q, int i, struct swtimer *t)
{
	q->heap[i] = t;
	t->slot = i;
}

static void sift_up(struct timer_queue *q, int i)
{
	struct swtimer *t = q->heap[i];

	while (i > 0) {
		int parent = (i - 1) / 2;

		if (!earlier(t, q->heap[parent]))
			break;
		place(q, i, q->heap[parent]);
		i = parent;
	}
	place(q, i, t);
}

static void sift_down(struct timer_queue *q, int i)
{
	struct swtimer *t = q->heap[i];

	for (;;) {
		int c = 2 * i + 1;

		if (c >= q->size)
			break;
		if (c + 1 < q->size && earlier(q->heap[c + 1], q->heap[c]))
			c++;
		if (!earlier(q->heap[c], t))
			break;
		place(q, i, q->heap[c]);
		i = c;
	}
	place(q, i, t);
}

void timerq_init(struct timer_queue *q, struct swtimer **storage, int capacity)
{
	q->heap = storage;
	q->size = 0;
	q->capacity = capacity;
	q->seq = 0;
}

bool timerq_del(struct timer_queue *q, struct swtimer *t)
{
	int i = t->slot;
	struct swtimer *last;

	if (i < 0 || i >= q->size || q->heap[i] != t)
		return false;
	t->slot = -1;
	last = q->heap[--q->size];
	if (i == q->size)
		return true;
	place(q, i, last);
	/* The moved timer may belong above or below its new slot. */
	if (i > 0 && earlier(last, q->heap[(i - 1) / 2]))
		sift_up(q, i);
	else
		sift_down(q, i);
	return true;
}

int timerq_del_fn(struct timer_queue *q, void (*fn)(struct swtimer *t, u64 now))
{
	int kept = 0, gone;

	/* The timers kept, in their order: a subsequence of a heap is not
	 * one, so it is built again from the last parent up (Floyd's). */
	for (int i = 0; i < q->size; i++) {
		struct swtimer *t = q->heap[i];

		if (t->fn == fn)
			t->slot = -1;
		else
			place(q, kept++, t);
	}
	gone = q->size - kept;
	q->size = kept;
	for (int i = kept / 2 - 1; gone && i >= 0; i--)
		sift_down(q, i);
	return gone;
}

int timerq_add(struct timer_queue *q, struct swtimer *t)
{
	if (t->slot >= 0 && t->slot < q->size && q->heap[t->slot] == t)
		timerq_del(q, t);
	if (q->size == q->capacity)
		return -ERANGE;
	t->seq = q->seq++;
	place(q, q->size++, t);
	sift_up(q, t->slot);
	return 0;
}

struct swtimer *timerq_peek(const struct timer_queue *q)
{
	return q->size ? q->heap[0] : NULL;
}

int timerq_run(struct timer_queue *q, u64 now)
{
	/* A callback that keeps re-adding itself for a time already past
	 * must not hold us here forever. */
	int ran = 0, bound = 2 * q->size + 16;

	while (q->size && q->heap[0]->expires <= now && ran < bound) {
		struct swtimer *t = q->heap[0];

		timerq_del(q, t);
		ran++;
		t->fn(t, now);
	}
	return ran;
}

/* Oneshot samples of the devices of one window: programming, the watched
 * wait for all of them at once, stale and early interrupts told apart per
 * device, and whether the host or another device of the window spoiled a
 * sample. It must program the devices only through the clockevent
 * interface and bound every wait; it judges nothing (oneshot.c does). */
#include "oneshot_sample.h"
#include "absence.h"
#include "event_wait.h"
#include "arch-x86/cpu.h"
#include "arch-x86/delay.h"
#include "drivers/pit.h"
#include "lib/math.h"
#include "lib/offload.h"

/* An absence that holds a sample up: a gap of 1 ms and more in this
 * vCPU's polling (the watch keeps gaps of an eighth of its period). Under
 * the software KVM here a poll step is up to 52 us (a trapped RDTSC) and
 * an interrupt's entry and handler a few hundred; under TCG both are
 * microseconds. */
#define ONESHOT_ABSENCE_PERIOD_NS	8000000ull
/* Steal time in a wait that makes a lost event the host's doing: as long
 * as the absences the samples are taken again for. */
#define ONESHOT_STEAL_NS		(ONESHOT_ABSENCE_PERIOD_NS / STEAL_RECORD_DIV)

/*
 * Interference. With interrupts off in a handler, an event that falls due
 * while another device's handler runs (or while the CPU programs another
 * device, or, halted, is awake after another device's interrupt) is taken
 * only when that ends: its latency would include the other's work. Such
 * a busy interval is kept per window (the handler stamps its end; a
 * halted wait extends it to the next HLT), and an event due before one
 * ended and taken within the guard of its end (the return from the
 * other's interrupt and its own entry, 2 us, and two poll steps: a
 * hypervisor may inject it only at the next exit) may have been held up
 * by it, and is counted (disturbed). One taken later was not held back by
 * it: interrupts were on in between. The places of a round are due
 * further apart than two of the last handlers' median, so that this stays
 * rare. Such samples are kept, not taken again: under TCG an emulated
 * LAPIC timer was seen to be delivered right after the HPET's interrupt
 * although due tens of us before it (the emulator's own doing), and
 * taking those again kept only the quick ones (a median of 2.7 us against
 * 10.6 us alone in the same window). Whether sharing a window changes the
 * figures is checked instead: lapic.oneshot_concurrent compares each
 * device's shared rounds with its solo rounds, and where they disagree
 * the devices are measured alone (tests/oneshot.c). The early checks stand
 * apart from this: they use only the device's own stamps and count.
 */
#define BUSY_MAX		32
#define WARM_UP_NS		1000000ull	/* after a warm-up event, for a second */
#define BUSY_GUARD_NS		2000ull

struct busy {
	const struct clockevent *ce;	/* whose interrupt or programming */
	u64 start, end;
};

static struct busy busy[BUSY_MAX];
static volatile int nbusy;
/* The last HANDLERS handlers' durations (cycles), for the stagger: their
 * median, not their maximum, which a vCPU held up in a handler sets. */
#define HANDLERS		64
static u64 handler_ns[HANDLERS];
static volatile unsigned nhandler;
static u64 guard;		/* cycles, set each round */
static u64 poll_step_ns;	/* one poll, median of the last polled window */

/*
 * Every interrupt of a window's device is judged on its own, not only the
 * last one a poll finds: the handler logs each one's stamp and the device's
 * answers (clockevent.irq_passed; the PIT's count and OUT, pit_irq_read),
 * by the device's interrupt count. A poll step under the software KVM here
 * is up to half a millisecond, long enough for a held-back interrupt and
 * the event's own to come in one.
 */
#define IRQ_LOG			8

struct irq_entry {
	u64 events, tsc;
	bool passed;
	int count, out;
};

static struct irq_log {
	const struct clockevent *ce;
	bool pit;
	struct irq_entry e[IRQ_LOG];
} irq_logs[ONESHOT_GROUP];

static void irq_log_add(struct clockevent *ce)
{
	for (int i = 0; i < ONESHOT_GROUP; i++) {
		struct irq_log *l = &irq_logs[i];
		struct irq_entry *e;

		if (l->ce != ce)
			continue;
		e = &l->e[ce->events % IRQ_LOG];
		*e = (struct irq_entry){ ce->events, ce->irq_tsc, ce->irq_passed, -1, -1 };
		if (l->pit)
			pit_irq_read(&e->count, &e->out);
		return;
	}
}

/* Interrupt number n of d's device as logged; false when it is no longer
 * in the log (more than IRQ_LOG came since). */
static bool irq_logged(const struct oneshot_dev *d, u64 n, struct irq_entry *out)
{
	for (int i = 0; i < ONESHOT_GROUP; i++) {
		const struct irq_log *l = &irq_logs[i];
		u64 flags;

		if (l->ce != d->ce)
			continue;
		flags = irq_save();
		*out = l->e[n % IRQ_LOG];
		irq_restore(flags);
		return out->events == n;
	}
	return false;
}

/* Every device of a window interrupts into this: the stamps it leaves are
 * the busy interval of its handler. */
static void window_handler(struct clockevent *ce)
{
	int i = nbusy;

	irq_log_add(ce);

	if (i < BUSY_MAX) {
		busy[i] = (struct busy){ ce, ce->irq_tsc, rdtsc_ordered() };
		handler_ns[nhandler++ % HANDLERS] = busy[i].end - busy[i].start;
		nbusy = i + 1;
	}
}

static void busy_add(const struct clockevent *ce, u64 start, u64 end)
{
	irq_disable();
	if (nbusy < BUSY_MAX)
		busy[nbusy++] = (struct busy){ ce, start, end };
	irq_enable();
}

/* Held up by another device of the window (see above). */
static bool disturbed(const struct oneshot_dev *d)
{
	u64 irq = d->irq, due = d->due;

	for (int i = 0; i < nbusy && i < BUSY_MAX; i++) {
		const struct busy *b = &busy[i];

		/* d's own handler and programming are no disturbance. */
		if (b->ce == d->ce || b->start > irq || due > b->end)
			continue;
		if (irq <= b->end + guard)
			return true;
	}
	return false;
}

/* How early an event may seem and still be on time: the uncertainty of its
 * due time and one device tick. */
static s64 early_limit(const struct clockevent *ce, u64 unc)
{
	return -(s64)(unc + tsc_hz() / ce->freq_hz + 1);
}

/* An event that may still come: the device is stopped (so that it cannot
 * come during the next sample), and what is already raised expected for
 * ONESHOT_WAIT_NS more. */
static void expect_stale(struct clockevent *ce, struct outstanding *o)
{
	ce->shutdown(ce);
	o->n++;
	o->until = rdtsc_ordered() + ns_to_tsc(ONESHOT_WAIT_NS);
}

/* The first interrupt of c's series not taken as its event that was
 * early by the device's count or raised by no edge of its own. */
static void note_irq(struct oneshot_dev *d, const struct irq_entry *e, bool not_raised)
{
	struct irq_note *n = &d->c->note;

	if (n->set)
		return;
	*n = (struct irq_note){
		.set = true, .not_raised = not_raised, .ticks = d->ticks,
		.after_prog = (s64)(e->tsc - d->prog), .after_prog_end = (s64)(e->tsc - d->prog_end),
		.before_due = (s64)(d->ce->due_tsc - e->tsc), .count = e->count, .out = e->out,
		.nirq = e->events - d->first, .prev_ticks = d->last_ticks,
		.prev_ago = d->last_prog ? (s64)(d->prog - d->last_prog) : 0,
		.prev_irq_ago = d->last_irq ? (s64)(d->prog - d->last_irq) : 0,
		.prev_how = d->last_how,
	};
}

/*
 * Interrupt e of d's device: true when it is the event programmed at
 * d->prog, whose lateness is then e->tsc - due_tsc. One that cannot be is
 * set apart and the wait goes on: one stamped before prog was raised
 * before the event was programmed (an edge an emulated interrupt
 * controller or KVM's PIT held back); one that came while the device's
 * own count said its event had not come yet (clockevent.passed, asked in
 * the interrupt), or early by the TSC, is the late interrupt of an earlier
 * event when one is outstanding (the host was seen to hold a delivery for
 * milliseconds): both stale. One before the device's count while its
 * output said this programming had raised no edge yet (the PIT's OUT,
 * which mode 0 drops at programming and raises only at the terminal
 * count, still low) is no edge of this programming's either: an earlier
 * one delivered late, stale (not_raised; under KVM on a loaded host the
 * in-kernel PIT, which injects from a host thread, delivered a tick
 * that came 49 ms to 1.8 s late a second time 0.4 to 4 ms after the
 * first: after the next count was written, that one read the fresh count
 * and was taken for that event come early). With none outstanding and no such
 * proof, one before the device's count is early by that count. Never a
 * planted one.
 */
static bool take_irq(struct oneshot_dev *d, const struct irq_entry *e)
{
	struct clockevent *ce = d->ce;
	struct oneshot_counts *c = d->c;
	struct outstanding *o = c->out;
	s64 lat = (s64)(e->tsc - ce->due_tsc);

	if (o->n && (s64)(e->tsc - o->until) > 0)
		o->n = 0;
	if (d->planted)
		return true;
	/* The count is asked only for an interrupt before the due time by
	 * the TSC: after it, a count that wraps (the PIT's, every 55 ms) may
	 * have come round again when the host held the interrupt up that
	 * long. */
	if (e->tsc >= d->prog && (e->passed || e->tsc >= ce->due_tsc)) {
		if (lat >= early_limit(ce, ce->due_unc) || !o->n)
			return true;
	} else if (e->tsc >= d->prog && !o->n) {
		bool not_raised = e->out == 0;

		note_irq(d, e, not_raised);
		if (not_raised) {
			c->not_raised++;
			c->stale++;
		} else {
			c->early_by_count++;
		}
		return false;
	}
	o->n -= o->n > 0;
	c->stale++;
	return false;
}

/* The interrupts of d's device not judged yet, in order, until one is its
 * event (true: its stamps are kept in d). One no longer in the log (more
 * than IRQ_LOG since the last poll) is judged by the device's last
 * stamps if it is the last, else counted stale. */
static bool take_event(struct oneshot_dev *d)
{
	struct clockevent *ce = d->ce;
	u64 last = ce->events;

	while (d->before < last) {
		struct irq_entry e;
		u64 n = ++d->before;

		if (!irq_logged(d, n, &e)) {
			if (n != last) {
				d->c->stale++;
				continue;
			}
			e = (struct irq_entry){ n, ce->irq_tsc, ce->irq_passed, -1, -1 };
		}
		if (d->plant_count) {
			/* Planted (oneshot_plant=early_count): judged first, an
			 * interrupt halfway to the due time, the count short and
			 * the output high, as a device that raised its event early
			 * would leave; the real one is judged after it. */
			struct irq_entry p = e;

			d->plant_count = false;
			p.tsc = d->prog + (ce->due_tsc - d->prog) / 2;
			p.passed = false;
			p.count = -1;
			p.out = 1;
			take_irq(d, &p);
			d->c->note.planted = d->c->note.set;
		}
		if (take_irq(d, &e)) {
			d->irq = e.tsc;
			d->due = ce->due_tsc;
			d->unc = ce->due_unc;
			return true;
		}
	}
	return false;
}

/* The first interrupt after d's event within its round, when logged. */
static void note_extra(struct oneshot_dev *d)
{
	struct oneshot_counts *c = d->c;
	struct irq_entry ev, e;

	if (c->extra_note.set || !irq_logged(d, d->before + 1, &e))
		return;
	if (!irq_logged(d, d->before, &ev))
		ev.count = -1;
	c->extra_note.set = true;
	c->extra_note.after = (s64)(e.tsc - d->irq);
	c->extra_note.after_due = (s64)(e.tsc - d->due);
	c->extra_note.passed = e.passed;
	c->extra_note.count = e.count;
	c->extra_note.out = e.out;
	c->extra_note.event_count = ev.count;
}

/* Not come in ONESHOT_WAIT_NS of presence: the host's doing when the
 * emulator was away for most of it, or the hypervisor counted steal time
 * in it (the host was short of CPU for this vCPU then; KVM injects the
 * PIT's interrupts from a host thread of its own, which nothing in the
 * guest can watch). */
static bool host_lost_it(const struct watch *w)
{
	return gaps_total(&w->emulator) > ns_to_tsc(ONESHOT_WAIT_NS) / 2 ||
	       (w->cpu.steal_known && w->cpu.steal_ns > ONESHOT_STEAL_NS);
}

/* Interrupts taken since the last sample ended, before this one is
 * programmed, are none of its own: stale, an outstanding one each while
 * there are any. Counted here, they would otherwise pass unseen. */
static void stale_between(u64 before, struct oneshot_counts *c)
{
	struct outstanding *o = c->out;
	u64 n = o->seen && before > o->seen ? before - o->seen : 0;

	c->stale += (int)n;
	o->n -= (int)MIN(n, (u64)o->n);
}

/* Programs d's event (or plants a fault); false when the driver said
 * -ETIME, after waiting a little for what it may raise anyway. */
static bool program(struct oneshot_dev *d, u64 ticks, u64 delta_ns, struct watch *w)
{
	struct clockevent *ce = d->ce;
	struct oneshot_counts *c = d->c;

	d->planted = d->plant_count = false;
	d->armed = true;
	d->prog = rdtsc_ordered();
	if (c->plant == PLANT_LOST) {
		/* Planted: an event the device never raises (not programmed). */
		c->plant = PLANT_NONE;
		d->planted = true;
		d->armed = false;
		ce->due_tsc = rdtsc_ordered() + ns_to_tsc(delta_ns);
		ce->due_unc = 0;
		return true;
	}
	if (ce->set_next_event(ce, ticks) == -ETIME) {
		/* Real HPETs then wait for the counter to wrap; QEMU's fires
		 * at once. Either way, wait a little so that it is not taken
		 * for the next event. */
		c->missed++;
		c->missed_slow += rdtsc_ordered() - d->prog > ns_to_tsc(delta_ns);
		if (wait_event(ce, d->before, rdtsc_ordered() + ns_to_tsc(DRAIN_NS), NULL, w))
			c->fired++;
		else
			expect_stale(ce, c->out);
		return false;
	}
	if (c->plant == PLANT_EARLY) {
		/* Planted: an event that comes ONESHOT_PLANT_NS early. */
		c->plant = PLANT_NONE;
		d->planted = true;
		ce->due_tsc += ns_to_tsc(ONESHOT_PLANT_NS);
	}
	if (c->plant == PLANT_EARLY_COUNT) {
		/* Planted: an interrupt ahead of the event's own (take_event). */
		c->plant = PLANT_NONE;
		d->plant_count = true;
	}
	return true;
}

/*
 * A device that can bound the others' HLTs once its own event came: not
 * the PIT, whose shutdown (mode 0, count 1, IRQ0 masked first) leaves an
 * edge the IOAPIC holds while masked and delivers when the next event
 * unmasks it: under KVM taken for an interrupt before the PIT's count
 * reached that event (pit.oneshot FAILed once in 4 runs so).
 */
static bool can_backstop(const struct oneshot_dev *d)
{
	return !d->pit;
}

/* The devices of round r by place (order[p]): places turn round by round;
 * halted, the devices that cannot be backstops go last (due last, they
 * usually come last, when the others can bound their HLTs). */
static void places(const struct oneshot_dev *g, int n, int r, bool halt, int *order)
{
	int k = 0;

	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < n; i++) {
			int j = (i + r) % n;

			if (!halt ? pass == 0 : can_backstop(&g[j]) == (pass == 0))
				order[k++] = j;
		}
}

/* An idle device of g[0..n) to bound d's HLTs alone, or NULL. */
static struct oneshot_dev *window_backstop(struct oneshot_dev *g, int n,
					   const struct oneshot_dev *d)
{
	for (int i = 0; i < n; i++)
		if (&g[i] != d && can_backstop(&g[i]))
			return &g[i];
	return NULL;
}

/* backstop_for(ce) when it shares no hardware with any device of the
 * window (the HPET's legacy replacement takes the PIT's IRQ0, and masks
 * it at shutdown; the two LAPIC timer modes are one LVT), or NULL. */
static struct clockevent *outside_backstop(const struct oneshot_dev *g, int n,
					   const struct clockevent *ce)
{
	struct clockevent *bs = backstop_for(ce);

	for (int i = 0; bs && i < n; i++)
		if (((bs->features & g[i].ce->features) & CE_PERCPU) ||
		    ((bs->features & CE_LEGACY_RT) && !__builtin_strcmp(g[i].ce->name, "pit")) ||
		    !__builtin_strcmp(bs->name, "pit"))
			return NULL;
	return bs;
}

/* A device whose event came bounds the halted waits of the others that
 * still wait: armed past the latest of their loss bounds. */
static bool arm_as_backstop(struct oneshot_dev *g, int n, struct oneshot_dev *d)
{
	u64 last = 0, now = rdtsc_ordered();

	for (int i = 0; i < n; i++)
		if (g[i].waiting)
			last = MAX(last, g[i].end);
	d->backstop = false;
	d->bs_events = d->ce->events;
	d->bs_first = d->bs_first ? d->bs_first : d->bs_events;
	if (last > now &&
	    clockevent_program(d->ce, mul_div_u64(tsc_to_ns(last - now) + 1000000, d->ce->freq_hz,
						  1000000000ull)) == 0)
		d->backstop = true;
	return d->backstop;
}

/* A backstop bounds a HLT only until it fires: one whose range is shorter
 * than the wait (the PIT's 55 ms) fires before the bound, and is armed
 * again (or the wait polls). */
static bool backstop_armed(const struct oneshot_dev *d)
{
	return d->backstop && d->ce->events == d->bs_events;
}

/*
 * Waits for every programmed event of g[0..n) at once, each until its own
 * loss bound (this vCPU's presence, polling), polling or halted. A HLT is
 * taken only while it is bounded: bs or a device armed as a backstop past
 * every bound, or two devices armed (each bounds the other: the one whose
 * event comes is armed as the backstop); else the wait polls.
 */
static void wait_all(struct oneshot_dev *g, int n, bool halt, struct clockevent *bs,
		     u64 bs_before, struct watch *w, struct poll_stats *ps)
{
	u64 first = halt ? rdtsc_ordered() : watch_poll(w), now = first, polls = 1;
	int hlt_from = nbusy;

	for (;;) {
		int waiting = 0, armed = 0;
		bool backstop = bs && bs->events == bs_before, came = false;

		for (int i = 0; i < n; i++) {
			struct oneshot_dev *d = &g[i];

			if (!d->waiting)
				continue;
			if (d->ce->events > d->before && take_event(d)) {
				d->waiting = false;
				d->got = true;
				came = true;
				continue;
			}
			if (now > d->end + (halt ? 0 : w->cpu.cycles)) {
				d->waiting = false;
				continue;
			}
			waiting++;
			armed += d->armed;
		}
		if (!waiting)
			break;
		for (int i = 0; i < n; i++)
			backstop |= backstop_armed(&g[i]);
		for (int i = 0; halt && !backstop && !bs && armed < 2 && i < n; i++)
			if (!g[i].waiting && g[i].got && can_backstop(&g[i]))
				backstop = arm_as_backstop(g, n, &g[i]);
		if (!halt || (!backstop && armed < 2)) {
			now = halt ? rdtsc_ordered() : watch_poll(w);
			polls++;
			continue;
		}
		irq_disable();
		for (int i = 0; i < n; i++)
			if (g[i].waiting && g[i].ce->events > g[i].before)
				came = true;
		if (!came) {
			u64 events = 0;

			/* Awake since the last HLT for others' interrupts: their
			 * busy intervals last until now. */
			now = rdtsc_ordered();
			for (int i = hlt_from; i < nbusy; i++)
				busy[i].end = MAX(busy[i].end, now);
			hlt_from = nbusy;
			for (int i = 0; i < n; i++)
				events += g[i].waiting ? g[i].ce->events : 0;
			__asm__ volatile("sti; hlt" ::: "memory");
			for (int i = 0; i < n; i++)
				events -= g[i].waiting ? g[i].ce->events : 0;
			if (!events)
				for (int i = 0; i < n; i++)
					g[i].c->others += g[i].waiting;
		}
		irq_enable();
		now = rdtsc_ordered();
	}
	*ps = (struct poll_stats){ polls, now - first };
}

/* The median of the last handlers' durations (cycles), for offload():
 * copying and selecting 64 values is some thousand instructions, each
 * interpreted in ring 0 under kvm_pvm (~0.8 ms of every round, a fifth of
 * it, measured), one trip at CPL 3 (~0.1 ms). */
struct handler_median {
	unsigned n;
	u64 v[HANDLERS];
};

static u64 handler_median_job(void *arg)
{
	struct handler_median *j = arg;

	__builtin_memcpy(j->v, handler_ns, sizeof(j->v));
	return select_u64(j->v, j->n, j->n / 2);
}

/* One round: every device of g[0..n) programmed (the one due last first,
 * so that none falls due while a later one is programmed), waited for,
 * and each sample's outcome in o[]. */
static void round_of(struct oneshot_dev *g, int n, int r, u64 delta_ns, u64 stagger_ns,
		     bool solo, struct clockevent *bs, bool bs_member, struct watch *w,
		     enum sample_outcome *o)
{
	bool halt = g[0].c->mode == WAIT_HALT;
	struct poll_stats ps = { 0, 0 };
	static struct handler_median h;
	int order[ONESHOT_GROUP];
	u64 hmed, bs_before;

	h.n = MIN(nhandler, HANDLERS);
	hmed = h.n ? tsc_to_ns(offload(handler_median_job, &h)) : 0;
	/* Places further apart than two handlers (the median of the last). */
	stagger_ns = MAX(stagger_ns, 2 * hmed);
	guard = ns_to_tsc(BUSY_GUARD_NS + 2 * poll_step_ns);
	for (int i = 0; i < n; i++) {
		g[i].c->guard_ns = MAX(g[i].c->guard_ns, tsc_to_ns(guard));
		g[i].c->stagger_ns = MAX(g[i].c->stagger_ns, n > 1 ? stagger_ns : 0);
	}
	nbusy = 0;
	bs_before = bs ? bs->events : 0;
	if (halt && bs && !arm_backstop(bs, delta_ns + (u64)n * stagger_ns + ONESHOT_WAIT_NS +
					    1000000))
		bs = NULL;	/* the halted waits then poll */
	if (halt)
		watch_begin_halted(w);
	else
		watch_begin(w, ns_to_tsc(ONESHOT_ABSENCE_PERIOD_NS), true);
	places(g, n, r, halt, order);
	for (int p = n - 1; p >= 0; p--) {
		struct oneshot_dev *d = &g[order[p]];
		struct clockevent *ce = d->ce;
		u64 dn = delta_ns + (u64)p * stagger_ns;
		u64 ticks = MAX(mul_div_u64(dn, ce->freq_hz, 1000000000ull), ce->min_delta);

		d->before = d->first = ce->events;
		d->ticks = ticks;
		stale_between(d->before, d->c);
		d->c->tries++;
		d->got = d->backstop = false;
		d->bs_first = 0;
		d->waiting = program(d, ticks, dn, w);
		d->prog_end = rdtsc_ordered();
		d->end = ce->due_tsc + ns_to_tsc(ONESHOT_WAIT_NS);
		if (!d->waiting) {
			d->end = 0;
			d->c->out->seen = ce->events;
		}
		if (n > 1)
			busy_add(ce, d->prog, d->prog_end);
	}
	wait_all(g, n, halt, halt ? bs : NULL, bs_before, w, &ps);
	watch_end(w);
	/* A backstop that is one of the window's devices is not shut down:
	 * its next programming moves it (the HPET's shutdown gives IRQ0 back
	 * to the PIT masked, which makes an edge the IOAPIC holds until the
	 * HPET's next programming unmasks it: under KVM taken as an interrupt
	 * before its count reached that event, once in 6 runs); the window's
	 * end stops it. */
	if (halt && bs && !bs_member)
		bs->shutdown(bs);
	for (int i = 0; i < n; i++) {
		struct oneshot_dev *d = &g[i];

		if (d->got && !halt && ps.polls > 1 && d->c->nstep < d->c->max)
			d->c->step[d->c->nstep++] = tsc_to_ns(ps.cycles / (ps.polls - 1));
	}
	for (int i = 0; i < n; i++) {
		struct oneshot_dev *d = &g[i];
		struct oneshot_counts *c = d->c;
		u64 away, n_late;
		s64 lat;

		o[i] = SAMPLE_OK;
		if (!d->end) {
			o[i] = SAMPLE_MISSED;
			continue;
		}
		/* Interrupts after the event within the round, or after the
		 * wait gave up on it, are none of its own either (those after
		 * it was armed as the others' backstop are that one's). */
		n_late = (d->bs_first ? d->bs_first : d->ce->events) - d->before;
		c->stale += (int)n_late;
		c->extra += d->got ? (int)n_late : 0;
		if (d->got && n_late)
			note_extra(d);
		c->out->seen = d->before = d->ce->events;
		if (!d->got) {
			expect_stale(d->ce, c->out);
			o[i] = !d->planted && host_lost_it(w) ? SAMPLE_SPOILED : SAMPLE_LOST;
			continue;
		}
		lat = (s64)(d->irq - d->due);
		/* Early: before the due time by more than we know it. Neither
		 * absences nor other devices make events early. */
		if (lat < early_limit(d->ce, d->unc)) {
			c->early++;
			if (lat < c->worst_early) {
				c->worst_early = lat;
				c->early_after = (s64)(d->irq - d->prog);
			}
		}
		away = lat > 0 ? gaps_total_in(&w->all, d->due, d->irq) : 0;
		if (!away && halt && lat > 0 && w->cpu.steal_known &&
		    w->cpu.steal_ns > ONESHOT_STEAL_NS)
			away = MIN(ns_to_tsc(w->cpu.steal_ns), (u64)lat);
		/* Taken again while the series may still be given the time
		 * back (oneshot_window); after that kept, the time the host
		 * held it up taken off, as after ONESHOT_REMEASURE. */
		if (away && c->remeasured < ONESHOT_REMEASURE && d->give_back) {
			o[i] = SAMPLE_SPOILED;
			continue;
		}
		c->disturbed += !d->planted && n > 1 && disturbed(d);
		c->excused += away > 0;
		c->lat[c->n] = lat > 0 ? tsc_to_ns((u64)lat - away) : 0;
		if (solo && d->solo && d->nsolo < c->max)
			d->solo[d->nsolo++] = c->lat[c->n];
		else if (!solo && d->shared && d->nshared < c->max)
			d->shared[d->nshared++] = c->lat[c->n];
		c->n++;
	}
	for (int i = 0; i < n; i++) {
		struct oneshot_dev *d = &g[i];

		d->last_prog = d->prog;
		d->last_ticks = d->ticks;
		d->last_irq = d->got ? d->irq : 0;
		d->last_how = d->planted ? "a planted fault" :
			      !d->end ? "refused (-ETIME)" :
			      d->got ? "its event came" : "its event never came (the device stopped)";
	}
}

/*
 * Before a window, one event of each device that is no sample: an edge
 * an interrupt controller held while the input was masked (the HPET gives
 * IRQ0 back to the PIT masked, and that makes an edge; the PIT's own
 * shutdown makes one) is delivered when the device's first programming
 * unmasks it, and would be taken for an interrupt before the device's
 * count reached that event (under KVM pit.oneshot FAILed so once in 5
 * runs, its window straight after the HPET's). What comes here is not
 * counted: it is the previous window's.
 */
static void warm_up(struct oneshot_dev *d)
{
	struct clockevent *ce = d->ce;
	u64 before = ce->events, end;

	d->last_prog = rdtsc_ordered();
	d->last_ticks = ce->min_delta;
	d->last_how = "the window's warm-up event (no sample)";
	if (ce->set_next_event(ce, ce->min_delta)) {
		/* Refused: QEMU's HPET fires anyway; let that come here. */
		wait_event(ce, before, rdtsc_ordered() + ns_to_tsc(DRAIN_NS), NULL, NULL);
	} else {
		/* Until its own interrupt (stamped at its due time or after,
		 * within its bracket; a held edge comes first), at most the
		 * loss bound: on a busy host it came more than 5 ms late,
		 * inside the first round, where a planted lost sample took it
		 * for its own. */
		end = ce->due_tsc + ns_to_tsc(ONESHOT_WAIT_NS);
		while (rdtsc_ordered() < end &&
		       (ce->events == before ||
			(s64)(ce->irq_tsc - ce->due_tsc) < early_limit(ce, ce->due_unc)))
			cpu_relax();
		d->last_irq = ce->events != before ? ce->irq_tsc : 0;
		end = rdtsc_ordered() + ns_to_tsc(WARM_UP_NS);
		while (rdtsc_ordered() < end)
			cpu_relax();
	}
	if (d->c->out->seen)
		d->c->out->seen = ce->events;
}

/* Whether d's series goes on at TSC now: short of its want, before its
 * stop, and, past its pace point, at a pace that reaches half its want by
 * the stop (the budget's time spent so far is the budget less what is
 * left of it: the stop moves on by the time given back); or, short of
 * ONESHOT_MIN_KEPT samples, until `floor` (a KVM soak run beside 3 load
 * boots: one polled round of the PIT's series took ~0.8 s, the host away,
 * and the series ended past its stop with nothing kept; a sample spoiled
 * after that is kept, the host's time taken off). */
static bool goes_on(const struct oneshot_dev *d, u64 now)
{
	u64 left = d->stop > now ? d->stop - now : 0, spent = d->budget - MIN(left, d->budget);

	if (d->c->n >= d->want)
		return false;
	if (d->c->n < ONESHOT_MIN_KEPT && now < d->floor)
		return true;
	if (!left)
		return false;
	return !d->pace || spent < d->pace ||
	       2 * (u64)d->c->n * d->budget >= (u64)d->want * spent;
}

void oneshot_window(struct oneshot_dev *g, int n, const u64 *deltas_ns, u64 stagger_ns,
		    struct clockevent *bs, u64 (*idle)(void))
{
	static struct watch w;
	u64 start = rdtsc_ordered();

	nhandler = 0;
	for (int i = 0; i < n; i++)
		g[i].pit = !__builtin_strcmp(g[i].ce->name, "pit");
	for (int i = 0; i < ONESHOT_GROUP; i++)
		irq_logs[i] = (struct irq_log){ i < n ? g[i].ce : NULL, i < n && g[i].pit, { { 0 } } };
	for (int i = 0; i < n; i++) {
		g[i].ce->handler = window_handler;
		g[i].ce->check_passed = g[i].ce->passed != NULL;
		warm_up(&g[i]);
	}
	/* The warm-up is not the series': its time is given back. */
	for (int i = 0; i < n; i++)
		g[i].stop += rdtsc_ordered() - start;
	start = rdtsc_ordered();
	for (int i = 0; i < n; i++)
		g[i].floor = start + g[i].min_span;
	for (int r = 0;; r++) {
		struct oneshot_dev *in[ONESHOT_GROUP], run[ONESHOT_GROUP], *rg, *partner;
		struct clockevent *rbs;
		enum sample_outcome o[ONESHOT_GROUP];
		int b = r / 4, k = 0, solo = n > 1 && b && (b - 1) % (4 * n) < n ? (b - 1) % (4 * n) : -1;
		u64 now, t0, took, spent = idle ? idle() : 0;

		for (int i = 0; i < n; i++)
			g[i].stop += spent;
		now = rdtsc_ordered();
		for (int i = 0; i < n && k < ONESHOT_GROUP; i++)
			if (goes_on(&g[i], now))
				in[k++] = &g[i];
		if (!k)
			break;
		/* Halted, a solo round needs a bound (below). */
		if (solo >= 0 && g[0].c->mode == WAIT_HALT && !window_backstop(g, n, &g[solo]) &&
		    !outside_backstop(g, n, g[solo].ce))
			solo = -1;
		if (solo >= 0 && goes_on(&g[solo], now)) {
			in[0] = &g[solo];
			k = 1;
		} else {
			solo = -1;
		}
		/* Every device in the round: in[i] is &g[i], and the round runs
		 * on g itself (a copy each way of each device, in every round, is
		 * interpreted under kvm_pvm); else on copies of those in it. */
		rg = k == n ? g : run;
		for (int i = 0; i < k; i++) {
			if (rg == run)
				run[i] = *in[i];
			rg[i].end = 0;
			o[i] = SAMPLE_OK;
		}
		/* A round of one device halted (a solo round, or the others
		 * done) is bounded as a device alone is: by an idle device of the
		 * window, or another that shares no hardware with any of them
		 * (a solo round that has none is not taken; the others done,
		 * the wait polls). */
		rbs = bs;
		partner = NULL;
		if (k == 1 && n > 1 && g[0].c->mode == WAIT_HALT) {
			partner = window_backstop(g, n, in[0]);
			rbs = partner ? partner->ce : outside_backstop(g, n, in[0]->ce);
		}
		t0 = rdtsc_ordered();
		round_of(rg, k, r, deltas_ns[r % 4], stagger_ns, solo >= 0, rbs, partner != NULL,
			 &w, o);
		took = rdtsc_ordered() - t0;
		if (partner) {
			partner->ce->handler = window_handler;
			if (partner->c->out->seen)
				partner->c->out->seen = partner->ce->events;
		}
		for (int i = 0; i < k; i++) {
			struct oneshot_counts *c = in[i]->c;
			bool planted = rg[i].planted;

			if (rg == run)
				*in[i] = run[i];
			if (o[i] == SAMPLE_SPOILED) {
				/* The host's round: its time is given back (bounded). */
				u64 back = MIN(took, in[i]->give_back);

				in[i]->stop += back;
				in[i]->give_back -= back;
				c->given_back_ns += tsc_to_ns(back);
			}
			if (o[i] == SAMPLE_SPOILED && c->remeasured < ONESHOT_REMEASURE) {
				c->remeasured++;
				steal_note_remeasured();
			} else if (o[i] == SAMPLE_SPOILED) {
				c->unjudged++;
			}
			c->lost += o[i] == SAMPLE_LOST;
			if (planted)
				in[i]->stop += rdtsc_ordered() - t0;	/* a planted sample is extra */
			in[i]->ran_until = t0 + took;
		}
	}
	for (int i = 0; i < n; i++) {
		struct oneshot_counts *c = g[i].c;

		g[i].ce->shutdown(g[i].ce);
		g[i].ce->handler = NULL;
		g[i].ce->check_passed = false;
		irq_logs[i].ce = NULL;
		/* Its own series, not the window's: a device whose series
		 * ended first ran for less. */
		c->ns = tsc_to_ns((g[i].ran_until ? g[i].ran_until : rdtsc_ordered()) - start);
		summarize(c->lat, (size_t)c->n, &c->lat_sum);
		if (c->mode == WAIT_POLL) {
			summarize(c->step, (size_t)c->nstep, &c->step_sum);
			poll_step_ns = MAX(poll_step_ns, c->step_sum.p50);
		}
	}
}

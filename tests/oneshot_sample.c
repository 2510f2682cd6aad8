/* One oneshot sample: programming, the watched wait, stale and early
 * interrupts told apart, and whether the host spoiled it. It must program
 * the device only through the clockevent interface and bound every wait;
 * it judges nothing (oneshot.c does). */
#include "oneshot_sample.h"
#include "absence.h"
#include "event_wait.h"
#include "arch-x86/cpu.h"
#include "arch-x86/delay.h"
#include "lib/math.h"

/* An absence that holds a sample up: a gap of 1 ms and more in this
 * vCPU's polling (the watch keeps gaps of an eighth of its period). Under
 * the software KVM here a poll step is up to 52 us (a trapped RDTSC) and
 * an interrupt's entry and handler a few hundred; under TCG both are
 * microseconds. */
#define ONESHOT_ABSENCE_PERIOD_NS	8000000ull
/* Steal time in a wait that makes a lost event the host's doing: as long
 * as the absences the samples are taken again for. */
#define ONESHOT_STEAL_NS		(ONESHOT_ABSENCE_PERIOD_NS / STEAL_RECORD_DIV)

/* Waits for the event just programmed (before: the count when it was) in
 * c's mode, bs bounding a halt; a polled wait is watched by w. */
static bool wait_one(struct clockevent *ce, u64 before, struct clockevent *bs, u64 bs_before,
		     struct watch *w, struct oneshot_counts *c)
{
	u64 end = ce->due_tsc + ns_to_tsc(ONESHOT_WAIT_NS);
	struct poll_stats ps = { 0, 0 };
	bool got;

	if (c->mode == WAIT_HALT)
		return halt_wait(ce, before, end, bs, bs_before, &c->others);
	got = wait_event(ce, before, end, &ps, w);
	/* A wait whose event came before its second poll timed no poll. */
	if (got && ps.polls > 1 && c->nstep < c->max)
		c->step[c->nstep++] = tsc_to_ns(ps.cycles / (ps.polls - 1));
	return got;
}

/* How early an event may seem and still be on time: the uncertainty of its
 * due time and one device tick. */
static s64 early_limit(const struct clockevent *ce)
{
	return -(s64)(ce->due_unc + tsc_hz() / ce->freq_hz + 1);
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

/*
 * Waits for the event programmed at TSC `prog` and returns its lateness
 * in cycles (false when lost). An interrupt that cannot be this event is
 * set apart and the wait goes on: one stamped before `prog` was raised
 * before the event was programmed (an edge an emulated interrupt
 * controller or KVM's PIT held back); one that came while the device's
 * own count said its event had not come yet (clockevent.passed, asked in
 * the interrupt), or early by the TSC, is the late interrupt of an earlier
 * event when one is outstanding (the host was seen to hold a delivery for
 * milliseconds): both stale. With none outstanding, one before the
 * device's count is early by that count. Never a planted one.
 */
static bool wait_lateness(struct clockevent *ce, u64 before, u64 prog, struct clockevent *bs,
			  u64 bs_before, bool planted, struct watch *w, struct oneshot_counts *c,
			  s64 *lat)
{
	struct outstanding *o = c->out;

	for (;;) {
		if (!wait_one(ce, before, bs, bs_before, w, c))
			return false;
		before = ce->events;
		*lat = (s64)(ce->irq_tsc - ce->due_tsc);
		if (o->n && (s64)(ce->irq_tsc - o->until) > 0)
			o->n = 0;
		if (planted)
			return true;
		/* The count is asked only for an interrupt before the due time
		 * by the TSC: after it, a count that wraps (the PIT's, every
		 * 55 ms) may have come round again when the host held the
		 * interrupt up that long. */
		if (ce->irq_tsc >= prog && (ce->irq_passed || ce->irq_tsc >= ce->due_tsc)) {
			if (*lat >= early_limit(ce) || !o->n)
				return true;
		} else if (ce->irq_tsc >= prog && !o->n) {
			c->early_by_count++;
			continue;
		}
		o->n -= o->n > 0;
		c->stale++;
	}
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

/* Programs the event (or plants a fault); false when the driver said
 * -ETIME, after waiting a little for what it may raise anyway. */
static bool program(struct clockevent *ce, u64 ticks, u64 delta_ns, u64 before, u64 prog,
		    struct watch *w, struct oneshot_counts *c, bool *planted)
{
	if (c->plant == PLANT_LOST) {
		/* Planted: an event the device never raises (not programmed). */
		c->plant = PLANT_NONE;
		*planted = true;
		ce->due_tsc = rdtsc_ordered() + ns_to_tsc(delta_ns);
		ce->due_unc = 0;
		return true;
	}
	if (ce->set_next_event(ce, ticks) == -ETIME) {
		/* Real HPETs then wait for the counter to wrap; QEMU's fires
		 * at once. Either way, wait a little so that it is not taken
		 * for the next event. */
		c->missed++;
		c->missed_slow += rdtsc_ordered() - prog > ns_to_tsc(delta_ns);
		if (wait_event(ce, before, rdtsc_ordered() + ns_to_tsc(DRAIN_NS), NULL, w))
			c->fired++;
		else
			expect_stale(ce, c->out);
		return false;
	}
	if (c->plant == PLANT_EARLY) {
		/* Planted: an event that comes ONESHOT_PLANT_NS early. */
		c->plant = PLANT_NONE;
		*planted = true;
		ce->due_tsc += ns_to_tsc(ONESHOT_PLANT_NS);
	}
	return true;
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

/* A halted wait is bounded by bs, armed first (so that arming it does not
 * delay the event) and shut down after. A polled wait is watched with the
 * emulator's witness; a halted one only for KVM steal time (a halted vCPU
 * does not poll, so its gaps say nothing). */
enum sample_outcome oneshot_one(struct clockevent *ce, u64 ticks, u64 delta_ns,
				struct clockevent *bs, bool strict, struct oneshot_counts *c)
{
	static struct watch w;
	u64 before = ce->events, bs_before = bs ? bs->events : 0, prog, away;
	s64 lat = 0;
	bool got, planted = false, poll = c->mode == WAIT_POLL;

	stale_between(before, c);
	c->tries++;
	if (c->mode == WAIT_HALT && bs && !arm_backstop(bs, delta_ns + ONESHOT_WAIT_NS + 1000000))
		bs = NULL;	/* the halted wait then polls */
	watch_begin(&w, poll ? ns_to_tsc(ONESHOT_ABSENCE_PERIOD_NS) : 0, poll);
	prog = rdtsc_ordered();
	if (!program(ce, ticks, delta_ns, before, prog, &w, c, &planted)) {
		watch_end(&w);
		if (bs)
			bs->shutdown(bs);
		c->out->seen = ce->events;
		return SAMPLE_MISSED;
	}
	got = wait_lateness(ce, before, prog, bs, bs_before, planted, poll ? &w : NULL, c, &lat);
	c->out->seen = ce->events;
	watch_end(&w);
	if (bs)
		bs->shutdown(bs);
	if (!got) {
		expect_stale(ce, c->out);
		return !planted && host_lost_it(&w) ? SAMPLE_SPOILED : SAMPLE_LOST;
	}
	/* Early: before the due time by more than we know it. Absences do
	 * not make events early. */
	if (lat < early_limit(ce)) {
		c->early++;
		if (lat < c->worst_early) {
			c->worst_early = lat;
			c->early_after = (s64)(ce->irq_tsc - prog);
		}
	}
	away = lat > 0 ? gaps_total_in(&w.all, ce->due_tsc, ce->irq_tsc) : 0;
	if (!away && !poll && lat > 0 && w.cpu.steal_known && w.cpu.steal_ns > ONESHOT_STEAL_NS)
		away = MIN(ns_to_tsc(w.cpu.steal_ns), (u64)lat);
	if (away && strict)
		return SAMPLE_SPOILED;
	c->excused += away > 0;
	c->lat[c->n++] = lat > 0 ? tsc_to_ns((u64)lat - away) : 0;
	return SAMPLE_OK;
}

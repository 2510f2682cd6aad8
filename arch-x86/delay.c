/* The TSC ruler: the rate the TSC driver hands down, cycle/ns conversions
 * and bounded busy-waits. It must not estimate the rate itself or call up
 * into drivers: it only uses what it was given. */
#include "delay.h"
#include "cpu.h"
#include "kvmsteal.h"
#include "percpu.h"
#include "lib/math.h"

static u64 hz = 1000000000;
static const char *source = "assumed";

u64 tsc_hz(void) { return hz; }
const char *tsc_hz_source(void) { return source; }

void tsc_ruler_set(u64 h, const char *src)
{
	hz = h;
	source = src;
}

u64 tsc_to_ns(u64 cycles) { return mul_div_u64(cycles, 1000000000, hz); }
u64 ns_to_tsc(u64 ns) { return mul_div_u64(ns, hz, 1000000000); }

void tsc_delay_us(u64 us)
{
	u64 end = rdtsc_ordered() + ns_to_tsc(us * 1000);

	while (rdtsc_ordered() < end)
		cpu_relax();
}

/* Per-CPU totals: each CPU writes only its own. */
static struct steal_totals totals[SMP_MAX_CPUS];
/*
 * How far each CPU's totals already reach. Windows overlap (periodic
 * devices measured at once, each polling its own window): a gap between
 * polls is then seen by every window open, and each window spans the same
 * time. The totals count the time after these marks only, so that they
 * add up the union of the windows, not their sum (windows end in time
 * order; one that began before an earlier-ended one began loses only that
 * head, microseconds where windows start together).
 */
static struct {
	u64 step;	/* TSC to which steps are counted (histogram, gaps) */
	u64 watched;	/* TSC to which watched time is counted */
	u64 steal;	/* KVM steal time counted so far */
} upto[SMP_MAX_CPUS];

const struct steal_totals *steal_totals(int cpu)
{
	return cpu >= 0 && cpu < SMP_MAX_CPUS ? &totals[cpu] : NULL;
}

static bool steal_now(u64 *ns)
{
	return kvmsteal_read(ns);
}

void steal_begin(struct steal *s, u64 period)
{
	*s = (struct steal){ .period = period };
	gaps_init(&s->absent);
	s->steal_known = steal_now(&s->steal0);
	s->start = s->last = rdtsc_ordered();
}

void steal_backdate(struct steal *s, u64 from)
{
	if (from < s->start && s->last == s->start)
		s->start = s->last = from;
}

static void hist_add(struct steal_totals *t, u64 step)
{
	u64 ns = tsc_to_ns(step);
	int b = 0;

	if (ns < (1ull << STEAL_HIST_MIN))
		return;
	while (b < STEAL_HIST_BUCKETS - 1 && ns >= (2ull << (STEAL_HIST_MIN + b)))
		b++;
	t->hist[b]++;
}

/* A step of this window into the CPU's totals: only its part after what
 * other windows' steps already counted. */
static void total_step(const struct steal *s, u64 now, u64 step)
{
	int c = this_cpu();
	struct steal_totals *t = &totals[c];
	u64 from = MAX(s->last, upto[c].step);

	if (now <= from)
		return;
	if (s->period && step >= s->period) {
		t->gaps += from == s->last;
		t->absent += now - from;
	}
	if (now - from >= ns_to_tsc(1ull << STEAL_HIST_MIN))
		hist_add(t, now - from);
	upto[c].step = now;
}

u64 steal_poll(struct steal *s)
{
	u64 now = rdtsc_ordered(), step = now - s->last;

	if (step > s->longest)
		s->longest = step;
	if (s->period && step >= s->period) {
		s->gaps++;
		s->cycles += step;
		s->periods += step / s->period;
	}
	if (s->period && step >= s->period / STEAL_RECORD_DIV)
		gaps_add(&s->absent, s->last, now);
	if (step >= MIN(s->period ? s->period : UINT64_MAX, ns_to_tsc(1ull << STEAL_HIST_MIN)))
		total_step(s, now, step);
	s->last = now;
	return now;
}

void steal_end(struct steal *s)
{
	int c = this_cpu();
	struct steal_totals *t = &totals[c];
	u64 ns;

	if (s->steal_known && steal_now(&ns)) {
		s->steal_ns = ns >= s->steal0 ? ns - s->steal0 : 0;
		if (ns > MAX(s->steal0, upto[c].steal))
			t->steal_ns += ns - MAX(s->steal0, upto[c].steal);
		upto[c].steal = MAX(upto[c].steal, ns);
	} else {
		s->steal_known = false;
	}
	/* A last poll after that read: were the vCPU kept away just before
	 * it, the steal read then counts it, and so must the window. */
	steal_poll(s);
	t->windows++;
	if (s->last > MAX(s->start, upto[c].watched))
		t->watched += s->last - MAX(s->start, upto[c].watched);
	upto[c].watched = MAX(upto[c].watched, s->last);
	t->longest = MAX(t->longest, s->longest);
}

void tsc_wait_steal(u64 end, u64 period, struct steal *s)
{
	steal_begin(s, period);
	while (steal_poll(s) < end)
		cpu_relax();
	steal_end(s);
}

u64 steal_halt(void)
{
	struct steal_totals *t = &totals[this_cpu()];
	u64 s0 = 0, s1 = 0, a, b;
	bool known = steal_now(&s0);

	a = rdtsc_ordered();
	/* STI's one-instruction shadow makes STI;HLT atomic: the interrupt
	 * that ends the halt cannot slip in before it. */
	__asm__ volatile("sti; hlt" ::: "memory");
	b = rdtsc_ordered();
	t->halts++;
	t->halted += b - a;
	if (known && steal_now(&s1) && s1 > s0)
		t->halt_steal_ns += s1 - s0;
	return b - a;
}

void steal_note_remeasured(void)
{
	totals[this_cpu()].remeasured++;
}

void steal_note_unjudged(void)
{
	totals[this_cpu()].unjudged++;
}

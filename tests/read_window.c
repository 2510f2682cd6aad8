/* The shared read window of the clocksource tests: see read_window.h. */
#include "read_window.h"
#include "arch-x86/cpu.h"
#include "arch-x86/delay.h"
#include "lib/math.h"
#include "lib/str.h"

static struct read_window win;

/* Cost of one empty bracket (two ordered TSC reads): the least of
 * RW_OVER_READS. */
static u64 bracket_overhead(void)
{
	u64 best = UINT64_MAX;

	for (int i = 0; i < RW_OVER_READS; i++) {
		u64 a = rdtsc_ordered(), b = rdtsc_ordered();

		best = MIN(best, b - a);
	}
	return best;
}

/* Keeps a read's cost (a bracket, cycles): every stride-th read, halving
 * the kept ones and doubling the stride when they fill up, so that those
 * kept spread evenly over the whole window; min and max see every read. */
static void keep_cost(struct rw_source *s, u64 cyc)
{
	if (cyc < s->cost.min)
		s->cost.min = cyc;
	if (cyc > s->cost.max)
		s->cost.max = cyc;
	if (--s->skip)
		return;
	if (s->kept == RW_COST_KEEP) {
		/* Kept: reads stride, 2 stride, ...; now every other one, and
		 * this read (an odd multiple) is not on the new grid: the
		 * next one kept comes a stride later. */
		for (u32 i = 0; i < RW_COST_KEEP / 2; i++)
			s->samples[i] = s->samples[2 * i + 1];
		s->kept = RW_COST_KEEP / 2;
		s->skip = s->stride;
		s->stride *= 2;
		return;
	}
	s->samples[s->kept++] = cyc;
	s->skip = s->stride;
}

void rw_wrap_keep(struct rw_wrap *r, u64 a, u64 b, u64 total)
{
	struct rw_wrap_read cur = { a + (b - a) / 2, b - a, total };

	if (r->n < RW_WRAP_FIRST)
		r->first[r->n] = cur;
	r->n++;
	r->minw = MIN(r->minw, cur.width);
	/* The end: the narrowest read after the wrap due, so that the span
	 * judged holds every wrap (the latest narrow read overall once came
	 * 24 ms after the first, before any wrap, when the host kept the
	 * vCPU away through the rest). */
	if (cur.mid - r->t0 >= r->due && (!r->last.mid || cur.width <= r->last.width))
		r->last = cur;
}

void rw_wrap_start(const struct rw_wrap *r, struct rw_wrap_read *s0)
{
	*s0 = (struct rw_wrap_read){ 0 };
	for (u64 i = 0; i < MIN(r->n, (u64)RW_WRAP_FIRST); i++)
		if (r->first[i].width <= 2 * r->minw + 1) {
			*s0 = r->first[i];
			return;
		}
}

/*
 * One read of s, bracketed by a and b: its cost, and its step from its
 * previous read. Where the guest is interpreted (kvm_pvm: about a
 * microsecond an instruction) every instruction here costs as much as a
 * read, so the common case is kept short: a read that follows its
 * previous one within a quarter wrap extends plainly (cs_extend).
 */
static void account(struct read_window *w, struct rw_source *s, u64 a, u64 raw, u64 b)
{
	struct clocksource *cs = s->cs;
	u64 total;

	if (a - w->t1 > w->gap_max) {
		w->gap_max = a - w->t1;
		w->gap_at = w->t1;
	}
	w->t1 = b;
	keep_cost(s, b - a);
	/* Planted: a millisecond behind the read before it, which may be
	 * a turn of the other counters earlier. */
	if (++s->reads == 11 && s->back)
		raw = (s->e.last - s->back) & cs->mask;
	if (b - s->prev_a < s->plain_cyc) {
		total = cs_extend(&s->e, cs, raw);
	} else {
		/* Bracketed by the TSC, a narrow counter read again more
		 * than half a wrap later (the host kept us away, or the
		 * other counters' turns took long) keeps its wraps instead
		 * of seeming to go back, as long as the TSC is right to
		 * within half a wrap. */
		total = cs_extend_hint(&s->e, cs, raw,
				       mul_div_u64((a + b) / 2 - (s->prev_a + s->prev_b) / 2,
						   cs->freq_hz, tsc_hz()),
				       mul_div_u64((b - a + s->prev_b - s->prev_a) / 2, cs->freq_hz,
						   tsc_hz()));
	}
	if (total > s->total && total - s->total < s->minstep)
		s->minstep = total - s->total;
	s->total = total;
	if (s->wrap.want)
		rw_wrap_keep(&s->wrap, a, b, total);
	s->prev_a = a;
	s->prev_b = b;
}

/* RW_BURST reads of s back to back, with nothing between them but their
 * brackets, so that the smallest step between two is the counter's tick
 * (or its read's cost), not this loop's; then accounted. */
static void read_burst(struct read_window *w, struct rw_source *s, u64 slow)
{
	struct clocksource *cs = s->cs;
	u64 a[RW_BURST], raw[RW_BURST], b[RW_BURST];

	for (int k = 0; k < RW_BURST; k++) {
		a[k] = rdtsc_ordered();
		raw[k] = cs->read(cs);
		while (slow && rdtsc_ordered() - a[k] < slow)
			cpu_relax();
		b[k] = rdtsc_ordered();
	}
	for (int k = 0; k < RW_BURST; k++)
		account(w, s, a[k], raw[k], b[k]);
}

/* Starts s on cs with its first read, before the window. */
static void start_source(struct rw_source *s, struct clocksource *cs)
{
	u64 a = rdtsc_ordered(), raw = cs->read(cs), b = rdtsc_ordered();

	/* Field by field: the window is static, so the rest is zero, and
	 * clearing its kilobytes of samples costs milliseconds where the
	 * guest is interpreted. */
	s->cs = cs;
	s->stride = s->skip = 1;
	s->minstep = s->cost.min = UINT64_MAX;
	s->prev_a = a;
	s->prev_b = b;
	s->plain_cyc = ns_to_tsc(cs_wrap_ns(cs) / 4);
	cs_extend_start(&s->e, raw);
	s->wrap.t0 = a;
	s->wrap.minw = UINT64_MAX;
}

/* Whether the window watches cs's wrap: its wrap test is selected, and a
 * wrap and a quarter (what the test watches) fit in half the bound. */
static bool wrap_watched(const struct clocksource *cs)
{
	/* The selection last: under kvm_pvm each look-up walks the test
	 * registry for about a millisecond. */
	return cs->mask != ~0ull && cs_wrap_ns(cs) + cs_wrap_ns(cs) / 4 <= RW_BOUND_NS / 2 &&
	       test_selected(cs->name, "wrap");
}

/* Why the window may end now, or NULL to go on. */
static const char *window_end(const struct read_window *w, u64 now)
{
	bool need = false, more = false;

	for (int i = 0; i < w->n; i++) {
		const struct rw_wrap *r = &w->s[i].wrap;
		bool short_wrap = r->want && now - r->t0 < r->want;

		need |= w->s[i].reads < RW_COST_MIN || short_wrap;
		more |= w->s[i].reads < RW_ENOUGH || short_wrap;
	}
	if (!more)
		return "with enough reads";
	if (!need && now - w->t0 >= ns_to_tsc(RW_SPAN_NS))
		return "with the span and reads it needs";
	if (now - w->t0 >= ns_to_tsc(RW_BOUND_NS))
		return "at the bound";
	return NULL;
}

/* A bracket's cycles less the empty bracket's. */
static u64 less_over(const struct read_window *w, u64 cyc)
{
	return cyc > w->over ? cyc - w->over : 0;
}

static void measure_window(struct test_env *env, struct read_window *w)
{
	u64 slow = 0;
	char names[64] = "";
	size_t len = 0;

	w->slow = test_planted(env, "read_cost", "every read takes 200 us more");
	w->back = test_planted(env, "monotonic", "one read stepped a millisecond back");
	if (w->slow)
		slow = ns_to_tsc(200000);
	for (int i = 0; i < clocksource_count() && w->n < CS_MAX; i++) {
		struct clocksource *cs = clocksource_get(i);

		bool wrap = wrap_watched(cs);

		if (!wrap && !test_selected(cs->name, "read_cost") &&
		    !test_selected(cs->name, "monotonic"))
			continue;
		start_source(&w->s[w->n], cs);
		if (wrap) {
			w->s[w->n].wrap.due = ns_to_tsc(cs_wrap_ns(cs));
			w->s[w->n].wrap.want = ns_to_tsc(cs_wrap_ns(cs) + cs_wrap_ns(cs) / 4);
		}
		/* A millisecond's worth of ticks back (at least one). */
		if (w->back)
			w->s[w->n].back = MAX(cs->freq_hz / 1000, 1ull);
		len += (size_t)snprintf_(names + len, sizeof(names) - len, "%s%s",
					 w->n ? " " : "", cs->name);
		len = MIN(len, sizeof(names) - 1);
		w->n++;
	}
	w->over = bracket_overhead();
	w->t0 = w->t1 = rdtsc_ordered();
	do {
		for (int i = 0; i < w->n; i++)
			read_burst(w, &w->s[i], slow);
		w->rounds++;
	} while (!(w->ended = window_end(w, rdtsc_ordered())));
	for (int i = 0; i < w->n; i++) {
		struct rw_source *s = &w->s[i];
		u64 min = s->cost.min, max = s->cost.max;

		/* Taking the overhead out of every bracket keeps their order. */
		summarize(s->samples, s->kept, &s->cost);
		s->cost.min = less_over(w, min);
		s->cost.max = less_over(w, max);
		s->cost.p50 = less_over(w, s->cost.p50);
		s->cost.p90 = less_over(w, s->cost.p90);
		s->cost.p99 = less_over(w, s->cost.p99);
	}
	w->gap_at -= w->t0;
	diag("one window of interleaved reads: %s, %lu turns of %u reads of each, %lu ms (until "
	     "%lu ms and %u reads of each, or %u of each; bound %lu ms): ended %s", names,
	     w->rounds, RW_BURST, tsc_to_ns(w->t1 - w->t0) / 1000000, (u64)(RW_SPAN_NS / 1000000),
	     RW_COST_MIN, RW_ENOUGH, (u64)(RW_BOUND_NS / 1000000), w->ended);
	for (int i = 0; i < w->n; i++)
		if (w->s[i].wrap.want)
			diag("%s read until %lu ms after its first read, a wrap and a quarter, for "
			     "%s.wrap to judge", w->s[i].cs->name, tsc_to_ns(w->s[i].wrap.want) / 1000000,
			     w->s[i].cs->name);
	diag("its longest pause between reads: %lu us, %lu ms in (a host pause falls on every "
	     "counter alike)", tsc_to_ns(w->gap_max) / 1000, tsc_to_ns(w->gap_at) / 1000000);
}

const struct read_window *read_window(struct test_env *env)
{
	if (!win.done) {
		measure_window(env, &win);
		win.done = true;
	}
	return &win;
}

const struct rw_source *read_window_source(const struct read_window *w, const char *name)
{
	for (int i = 0; i < w->n; i++)
		if (!strcmp(w->s[i].cs->name, name))
			return &w->s[i];
	return NULL;
}

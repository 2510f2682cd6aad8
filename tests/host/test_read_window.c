/* The shared read window (tests/read_window.c) on the host, over fake
 * counters made from the host's TSC: interleaved reads kept apart per
 * counter, a 12-bit counter's many wraps extended, one device read that
 * goes back seen as one step back of that counter only, the planted step
 * back, and the thinning of the kept read costs. The TSC is taken to run
 * at 1 GHz here (tsc_hz, ns_to_tsc below): the fakes use the same. */
#include "tests/host/check.h"
#include "tests/read_window.c"

#include <stdarg.h>

/* What the kernel's report, runner and TSC ruler would give. */
static const char *planted;
void diag(const char *fmt, ...) { (void)fmt; }
bool test_planted(struct test_env *env, const char *what, const char *how)
{
	(void)env;
	(void)how;
	return planted && !strcmp(planted, what);
}
bool test_selected(const char *suite, const char *name)
{
	(void)name;
	return strcmp(suite, "unselected") != 0;
}
u64 tsc_hz(void) { return 1000000000; }
u64 ns_to_tsc(u64 ns) { return ns; }
u64 tsc_to_ns(u64 cycles) { return cycles; }

/* 12 bits at 1 MHz: wraps every 4.1 ms of this TSC, many times a window. */
static u64 read_narrow(struct clocksource *cs)
{
	(void)cs;
	return (rdtsc_ordered() / 1000) & 0xFFF;
}

/* The TSC itself, but its 500th read 1 ms back: a device that goes back. */
static int back_reads;
static u64 read_back(struct clocksource *cs)
{
	(void)cs;
	return rdtsc_ordered() - (++back_reads == 500 ? 1000000 : 0);
}

static struct clocksource narrow = { .name = "narrow", .read = read_narrow, .mask = 0xFFF,
				     .freq_hz = 1000000 };
static struct clocksource back = { .name = "back", .read = read_back, .mask = ~0ull,
				   .freq_hz = 1000000000 };
static struct clocksource unselected = { .name = "unselected", .read = read_back, .mask = ~0ull,
					 .freq_hz = 1000000000 };

static const struct read_window *fresh_window(const char *plant)
{
	memset(&win, 0, sizeof(win));
	back_reads = 0;
	planted = plant;
	return read_window(NULL);
}

static void test_window(void)
{
	const struct read_window *w = fresh_window(NULL);
	const struct rw_source *n = read_window_source(w, "narrow"), *b = read_window_source(w, "back");

	CHECK(w->n == 2 && n && b && !read_window_source(w, "unselected"));
	CHECK(w->ended && strcmp(w->ended, "at the bound"));
	CHECK(w->rounds * RW_BURST == n->reads && n->reads == b->reads);
	CHECK(n->reads >= RW_COST_MIN);
	CHECK(w->t1 - w->t0 >= RW_SPAN_NS || n->reads >= RW_ENOUGH);
	/* Each counter compared with its own previous read only. */
	CHECK(n->e.backwards == 0 && n->e.wraps >= 1 && n->minstep >= 1 && n->minstep < 0x800);
	CHECK(b->e.backwards == 1 && b->e.back_max >= 900000);
	for (int i = 0; i < 2; i++) {
		const struct rw_source *s = i ? b : n;

		CHECK(s->kept <= RW_COST_KEEP && s->kept >= MIN(s->reads, RW_COST_KEEP / 2));
		CHECK(s->cost.min <= s->cost.p50 && s->cost.p50 <= s->cost.p99 &&
		      s->cost.p99 <= s->cost.max);
	}
	/* Later calls give the same window. */
	CHECK(read_window(NULL) == w && w->rounds * RW_BURST == n->reads);
}

/* The narrow counter's wrap (4.1 ms) is watched for its wrap test, the
 * 64-bit ones' not: the window spans a wrap and a quarter after its first
 * read, the kept start is a read of the first ones, the end the narrowest
 * after the wrap was due, and their counts a wrap or more apart agree with
 * the TSC between them (1 tick a microsecond, to a tick per end). */
static void test_wrap_watch(void)
{
	const struct read_window *w = fresh_window(NULL);
	const struct rw_source *n = read_window_source(w, "narrow"), *b = read_window_source(w, "back");
	const struct rw_wrap *r = &n->wrap;
	u64 ticks, us;

	CHECK(r->want == 4096000 + 1024000 && r->due == 4096000 && !b->wrap.want);
	CHECK(w->t1 - r->t0 >= r->want);
	CHECK(r->n == n->reads && r->minw <= r->first[0].width);
	CHECK(r->last.mid - r->t0 >= r->due && r->last.mid > r->first[0].mid);
	ticks = r->last.total - r->first[0].total;
	us = (r->last.mid - r->first[0].mid) / 1000;
	CHECK(ticks >= 0x1000 && ticks + 2 + (r->last.width + r->first[0].width) / 1000 >= us &&
	      ticks <= us + 2 + (r->last.width + r->first[0].width) / 1000);
}

static void test_planted_back(void)
{
	const struct read_window *w = fresh_window("monotonic");

	CHECK(w->back && !w->slow);
	CHECK(read_window_source(w, "narrow")->e.backwards == 1);
	CHECK(read_window_source(w, "back")->e.backwards == 2);
}

/* The kept costs spread evenly over every read; min and max see all. */
static void test_thinning(void)
{
	struct rw_source s = { .stride = 1, .skip = 1, .cost.min = UINT64_MAX };
	u64 step;

	for (u64 i = 1; i <= 5000; i++) {
		s.reads = i;
		keep_cost(&s, i);
	}
	CHECK(s.cost.min == 1 && s.cost.max == 5000);
	CHECK(s.kept > RW_COST_KEEP / 2 && s.kept <= RW_COST_KEEP && s.stride == 8);
	step = s.samples[1] - s.samples[0];
	CHECK(step == s.stride);
	for (u32 i = 1; i < s.kept; i++)
		CHECK(s.samples[i] - s.samples[i - 1] == step);
	CHECK(s.samples[s.kept - 1] > 5000 - s.stride);
}

int main(void)
{
	CHECK(!clocksource_register(&narrow) && !clocksource_register(&back) &&
	      !clocksource_register(&unselected));
	test_window();
	test_wrap_watch();
	test_planted_back();
	test_thinning();
	return check_report("read_window");
}

/* Oneshot latency of a clockevent, waiting polled and halted, with the
 * histogram, the explanation of the difference and the verdict. It must
 * program devices only through the clockevent interface, and bound every
 * wait (a halted one by a second device's oneshot). */
#include "oneshot.h"
#include "sources.h"
#include "arch-x86/cpu.h"
#include "arch-x86/delay.h"
#include "lib/stats.h"
#include "event_wait.h"
#include "oneshot_sample.h"

/* Oneshot latency is measured in two waiting modes: polling the TSC and
 * halted (STI;HLT). Each runs until it has its samples or its time is up:
 * by default ONESHOT_DEFAULT or ONESHOT_BUDGET_NS (TCG gets the samples,
 * a slow KVM the time), with `thorough` ONESHOT_THOROUGH (1000 and more
 * make a p99 that is not just the largest few) or ONESHOT_THOROUGH_NS:
 * 1024 take ~3 s on this KVM when the host is idle, 6.6 s at load 10; a
 * polled series of the HPET or PIT must end within the watchdog's 20 s. */
#define ONESHOT_MAX		1024	/* samples kept per waiting mode */
#define ONESHOT_DEFAULT		256
#define ONESHOT_BUDGET_NS	250000000ul
#define ONESHOT_THOROUGH	ONESHOT_MAX
#define ONESHOT_THOROUGH_NS	12000000000ul
/* Samples taken again per waiting mode, at most, when the host spoils
 * them; after that the time it held them up is taken off. */
#define ONESHOT_REMEASURE	64
/* log2 buckets from 1 ns to 2^34 ns (17 s, past the watchdog), so that a
 * latency up to the loss bound and beyond lands in a bucket of its own. */
#define HIST_BUCKETS		34

static u64 lat_ns[2][ONESHOT_MAX];
static u64 poll_step_ns[ONESHOT_MAX];

static void print_histogram(const char *name, const u64 *v, int n)
{
	int counts[HIST_BUCKETS] = { 0 };
	char line[400];
	int len = 0;

	for (int i = 0; i < n; i++) {
		int b = 0;

		while (b < HIST_BUCKETS - 1 && v[i] >= (2ul << b))
			b++;
		counts[b]++;
	}
	len = snprintf_(line, sizeof(line), "histogram %s (ns, log2 buckets):", name);
	for (int b = 0; b < HIST_BUCKETS && len < (int)sizeof(line) - 30; b++)
		if (counts[b])
			len += snprintf_(line + len, sizeof(line) - (size_t)len, " [%lu,%lu):%d",
					 b ? 1ul << b : 0, 2ul << b, counts[b]);
	diag("%s", line);
}

static const char *const mode_name[] = { "poll", "halt" };

/* Events at each of the four deltas in turn, until `want` samples or
 * budget_ns have passed, waiting in `mode`. */
static void oneshot_series(struct clockevent *ce, enum wait_mode mode, const u64 *deltas_ns,
			   int want, u64 budget_ns, struct clockevent *bs, enum plant plant,
			   struct outstanding *out, struct oneshot_counts *c)
{
	u64 start = rdtsc_ordered(), stop = start + ns_to_tsc(budget_ns);

	*c = (struct oneshot_counts){ .mode = mode, .plant = plant, .out = out, .max = ONESHOT_MAX,
				      .lat = lat_ns[mode], .step = poll_step_ns };
	for (int i = 0; c->n < want && rdtsc_ordered() < stop; i++) {
		u64 d = deltas_ns[i % 4], t0 = rdtsc_ordered();
		u64 ticks = MAX(mul_div_u64(d, ce->freq_hz, 1000000000ull), ce->min_delta);
		bool planting = c->plant != PLANT_NONE;
		enum sample_outcome o;

		/* A sample the host held up (this vCPU or the emulator away
		 * between its due time and its interrupt, or away for most of
		 * the wait for one that never came) is taken again, up to
		 * ONESHOT_REMEASURE times in the series. */
		while ((o = oneshot_one(ce, ticks, d, bs, c->remeasured < ONESHOT_REMEASURE, c)) ==
		       SAMPLE_SPOILED && c->remeasured < ONESHOT_REMEASURE) {
			c->remeasured++;
			steal_note_remeasured();
		}
		c->lost += o == SAMPLE_LOST;
		c->unjudged += o == SAMPLE_SPOILED;
		if (planting && c->plant == PLANT_NONE)
			stop += rdtsc_ordered() - t0;	/* a planted sample is extra */
	}
	c->ns = tsc_to_ns(rdtsc_ordered() - start);
	summarize(lat_ns[mode], (size_t)c->n, &c->lat_sum);
	if (mode == WAIT_POLL)
		summarize(poll_step_ns, (size_t)c->nstep, &c->step_sum);
}

/* One mode's lines: the histogram, the count and the percentiles. */
static void report_mode(const char *name, const struct oneshot_counts *c)
{
	char m[64], h[48];

	snprintf_(h, sizeof(h), "oneshot %s latency", mode_name[c->mode]);
	print_histogram(h, lat_ns[c->mode], c->n);
	snprintf_(m, sizeof(m), "%s.oneshot.%s.samples", name, mode_name[c->mode]);
	measure_x(m, c->n, 0, NULL, "in %lu ms: %d programmed, %d missed, %d lost, %d early, "
		  "%d late ones of earlier samples", c->ns / 1000000, c->tries, c->missed, c->lost,
		  c->early, c->stale);
	snprintf_(m, sizeof(m), "%s.oneshot.%s.latency_ns", name, mode_name[c->mode]);
	measure_percentiles(m, &c->lat_sum, "ns");
	if (c->mode == WAIT_POLL) {
		snprintf_(m, sizeof(m), "%s.oneshot.poll.step_ns", name);
		measure_x(m, (s64)c->step_sum.p50, 0, "ns", "one poll (an ordered TSC read) while "
			  "waiting, median over the %d waits that polled; max %lu ns", c->nstep,
			  c->step_sum.max);
	}
}

/*
 * Why the two modes differ, when they do by a factor of two or more (and
 * by more than four poll steps): polling, the CPU runs and takes the
 * interrupt between two TSC reads; halted, it must first be woken.
 */
static void explain_modes(const struct oneshot_counts *poll, const struct oneshot_counts *halt)
{
	u64 p = poll->lat_sum.p50, h = halt->lat_sum.p50, step = poll->step_sum.p50;
	u64 hi = MAX(p, h), lo = MIN(p, h);

	if (!poll->n || !halt->n)
		return;
	if (hi < 2 * lo || hi - lo <= 4 * step) {
		diag("poll and halt within a factor of two: p50 %lu vs %lu ns (one poll %lu ns)", p,
		     h, step);
		return;
	}
	if (p > h)
		diag("polled latency is higher: p50 %lu vs %lu us halted. One poll (an ordered TSC "
		     "read) took %lu ns (p50; max %lu), so the polling granularity accounts for at "
		     "most that; the rest is how late the interrupt reaches a CPU that is running "
		     "(under a hypervisor that intercepts RDTSC, exiting on every read) compared "
		     "with one that is halted, whose wake-up the timer's expiry itself causes",
		     p / 1000, h / 1000, step, poll->step_sum.max);
	else
		diag("halted latency is higher: p50 %lu vs %lu us polled (one poll %lu ns). A "
		     "halted CPU must be woken before it takes the interrupt: for a vCPU, the "
		     "host must schedule its thread again; on hardware, it leaves its C-state",
		     h / 1000, p / 1000, step);
}

static enum verdict oneshot_verdict(const char *name, const struct oneshot_counts *c)
{
	const char *mode = mode_name[c->mode];

	if (c->lost)
		return fail("%s: %d of %d oneshot events never came (waited %lu ms of this vCPU's "
			    "presence past each)", mode, c->lost, c->tries, ONESHOT_WAIT_NS / 1000000);
	if (c->early_by_count)
		return fail("%s: %d interrupts came before %s's own count reached its event, with "
			    "no earlier event outstanding", mode, c->early_by_count, name);
	if (c->early)
		return fail("%s: %d events came early by the TSC although %s's count had reached "
			    "them, the worst by %lu ns, %lu ns after its programming began", mode,
			    c->early, name, tsc_to_ns((u64)-c->worst_early),
			    c->early_after > 0 ? tsc_to_ns((u64)c->early_after) : 0);
	if (c->unjudged) {
		steal_note_unjudged();
		return error("%s: %d oneshot events never came while the emulator was away for "
			     "most of the %lu ms waited (or the hypervisor counted steal time in it), "
			     "even after %d samples taken again: cannot judge %s", mode, c->unjudged,
			     ONESHOT_WAIT_NS / 1000000, c->remeasured, name);
	}
	if (!c->n && c->missed_slow == c->missed) {
		steal_note_unjudged();
		return error("%s: every programming attempt reported the event already passed, each "
			     "after programming took longer than its delta (%d attempts): the host "
			     "held this vCPU up while it programmed; cannot judge %s", mode,
			     c->missed, name);
	}
	if (!c->n)
		return fail("%s: every programming attempt reported the event already passed (%d "
			    "of %d within their delta)", mode, c->missed - c->missed_slow, c->missed);
	return PASS;
}

/* The lines of both modes, the totals and the summary note. */
static void report_all(const char *name, const struct clockevent *ce, const struct clockevent *bs,
		       const struct oneshot_counts *c, u64 min_ns, int want, u64 budget)
{
	char m[64], m2[24];

	diag("%s: %s; deltas %lu (minimum) / 20000 / 100000 / 1000000 ns in turn, up to %d "
	     "samples or %lu ms per waiting mode; an event is lost %lu ms past due", name,
	     ce->route, min_ns, want, budget / 1000000, ONESHOT_WAIT_NS / 1000000);
	report_mode(name, &c[WAIT_POLL]);
	if (bs) {
		diag("halted waits: STI;HLT, the handler's first act reads the TSC; bounded by "
		     "%s's oneshot 1 ms past the loss bound; %lu HLTs ended by other interrupts",
		     bs->name, c[WAIT_HALT].others);
		report_mode(name, &c[WAIT_HALT]);
		explain_modes(&c[WAIT_POLL], &c[WAIT_HALT]);
	} else {
		diag("halted waits not measured: no second oneshot device on other hardware to "
		     "bound a HLT (only an interrupt ends one)");
	}
	snprintf_(m, sizeof(m), "%s.oneshot.missed", name);
	measure_x(m, c[0].missed + c[1].missed, 0, NULL, "programmed too close: the driver said "
		  "-ETIME; %d of them fired anyway", c[0].fired + c[1].fired);
	snprintf_(m, sizeof(m), "%s.oneshot.early", name);
	measure_x(m, c[0].early + c[1].early + c[0].early_by_count + c[1].early_by_count, 0, NULL,
		  "expected 0; %d before the due time by the TSC, %d before the device's own count "
		  "reached its event%s", c[0].early + c[1].early,
		  c[0].early_by_count + c[1].early_by_count,
		  ce->passed ? "" : " (it has no count to ask)");
	snprintf_(m, sizeof(m), "%s.oneshot.stale", name);
	measure_x(m, c[0].stale + c[1].stale, 0, NULL, "interrupts not taken for their event: "
		  "stamped before it was programmed (an edge held back, a tick KVM's PIT "
		  "reinjects, a second one after an event's own), or before the device's count "
		  "reached it while an earlier event was outstanding");
	snprintf_(m, sizeof(m), "%s.oneshot.remeasured", name);
	measure_x(m, c[0].remeasured + c[1].remeasured, 0, NULL, "samples taken again: this vCPU "
		  "or the emulator was away between the due time and the interrupt (at most %d a "
		  "mode); %d kept with that time taken off their latency", ONESHOT_REMEASURE,
		  c[0].excused + c[1].excused);
	/* In us with the ns kept: a latency under 1 us is not 0. */
	if (bs)
		summary_note("oneshot p50 poll %s us, halt %s us",
			     fx(m, sizeof(m), (s64)c[0].lat_sum.p50, 3),
			     fx(m2, sizeof(m2), (s64)c[1].lat_sum.p50, 3));
	else
		summary_note("oneshot p50 poll %s us", fx(m, sizeof(m), (s64)c[0].lat_sum.p50, 3));
}

/* What oneshot_plant= asks for (a bad value is a warning). */
static enum plant plant_of(struct test_env *env)
{
	const char *p = cmdline_get(env->cmd, "oneshot_plant");

	if (!p)
		return PLANT_NONE;
	if (!__builtin_strcmp(p, "early") || !__builtin_strcmp(p, "lost")) {
		diag("planted: one %s event per waiting mode (oneshot_plant=%s)", p, p);
		return p[0] == 'e' ? PLANT_EARLY : PLANT_LOST;
	}
	diag("warning: cmdline: oneshot_plant= takes early or lost; nothing planted");
	return PLANT_NONE;
}

/*
 * Oneshot latency of the clockevent named name, polling and halted, one
 * verdict for both: the device must never be early and never lose an
 * event in either mode. The waiting mode changes how late the interrupt
 * is taken, which is reported, not judged.
 */
enum verdict ce_oneshot(const char *name, struct test_env *env)
{
	struct clockevent *ce, *bs;
	enum verdict v = ce_or_verdict(name, CE_ONESHOT, &ce);
	u64 deltas_ns[4] = { 0, 20000, 100000, 1000000 };
	bool thorough = cmdline_has(env->cmd, "thorough");
	int want = thorough ? ONESHOT_THOROUGH : ONESHOT_DEFAULT;
	u64 budget = thorough ? ONESHOT_THOROUGH_NS : ONESHOT_BUDGET_NS;
	struct outstanding out = { 0, 0, 0 };
	struct oneshot_counts c[2] = { { .mode = WAIT_POLL }, { .mode = WAIT_HALT } };
	enum plant plant;

	if (v != PASS)
		return v;
	plant = plant_of(env);
	bs = backstop_for(ce);
	/* The LAPIC timer is the watchdog's: paused while either is used. */
	if (ce->features & CE_PERCPU)
		watchdog_pause();
	deltas_ns[0] = mul_div_u64(ce->min_delta, 1000000000ull, ce->freq_hz) + 1;
	ce->handler = NULL;
	ce->check_passed = ce->passed != NULL;
	oneshot_series(ce, WAIT_POLL, deltas_ns, want, budget, NULL, plant, &out, &c[WAIT_POLL]);
	if (bs && (bs->features & CE_PERCPU))
		watchdog_pause();
	if (bs)
		oneshot_series(ce, WAIT_HALT, deltas_ns, want, budget, bs, plant, &out,
			       &c[WAIT_HALT]);
	ce->shutdown(ce);
	ce->check_passed = false;
	if ((ce->features | (bs ? bs->features : 0)) & CE_PERCPU)
		watchdog_resume();
	report_all(name, ce, bs, c, deltas_ns[0], want, budget);
	v = oneshot_verdict(name, &c[WAIT_POLL]);
	return bs ? verdict_merge(v, oneshot_verdict(name, &c[WAIT_HALT])) : v;
}

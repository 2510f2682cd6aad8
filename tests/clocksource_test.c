/*
 * Tests every clocksource through the clocksource interface: presence,
 * read cost, monotonicity and resolution (all of them from one shared
 * window of interleaved reads, read_window.h), and its rate against the
 * TSC and an independent truth. CS_SUITE(x) declares them for source x.
 * A test here reads a source only through cs->read: it must not know its
 * registers.
 */
#include "sources.h"
#include "read_window.h"
#include "arch-x86/cpuinfo.h"
#include "arch-x86/delay.h"

/* Linux 6.x's clocksource watchdog distrusts a read pair slower than
 * 125 µs (CONFIG_CLOCKSOURCE_WATCHDOG_MAX_SKEW_US): a source slower than
 * that at the median cannot be checked, let alone used. */
#define READ_COST_LIMIT_NS	125000

enum verdict absent_verdict(const char *name)
{
	int rc = 0;
	const char *why = tick_why(name, &rc);

	if (rc == -EIO)
		return fail("%s is present but broken: %s", name, why);
	return skip("%s", why ? why : "not registered");
}

u64 source_spec_ppb(const struct clocksource *cs, const char **cite)
{
	if (!__builtin_strcmp(cs->name, "hpet")) {
		*cite = "HPET spec: +-0.05 %";
		return HPET_SPEC_PPB;
	}
	if (!__builtin_strcmp(cs->name, "rtc")) {
		*cite = "DS12887: +-1 min/month";
		return RTC_SPEC_PPB;
	}
	/* KVM derives kvm-clock's scale from the TSC rate in whole kHz
	 * (Linux arch/x86/kvm/x86.c, kvm_guest_time_update: kvm_get_time_scale
	 * of tgt_tsc_khz * 1000), so it may run up to 500 Hz off the TSC's
	 * true rate; the 32-bit mul it rounds to adds under 1 ppb. */
	if (!__builtin_strcmp(cs->name, "kvmclock")) {
		*cite = "KVM scales from the TSC rate in whole kHz: 500 Hz";
		return mul_div_u64(500, 1000000000ull, MAX(tsc_hz(), 1ull)) + 1;
	}
	if (cs->flags & CS_TSC_BASED) {
		*cite = "derived from the TSC: none";
		return 0;
	}
	*cite = "Linux's refined calibration: 500 ppm";
	return REF_SPEC_PPB;
}

bool truth_for(struct test_env *env, const struct cal_result *except, struct truth *t)
{
	const struct cal_run *run = calibrate_last();
	const struct cal_result *best = NULL;
	const char *cite;

	*t = (struct truth){ .tsc_hz = known_tsc_hz(env), .name = "tsc_hz=" };
	if (t->tsc_hz && except && (except->cs->flags & CS_TSC_BASED) && known_tsc_raw_hz(env)) {
		t->tsc_hz = known_tsc_raw_hz(env);
		t->name = "tsc_raw_hz=";
	}
	if (t->tsc_hz) {
		t->unc_ppb = known_tsc_unc_ppb(env);
		return true;
	}
	for (int i = 0; i < run->n; i++) {
		const struct cal_result *o = &run->r[i];

		if (o == except || o->status || (o->cs->flags & CS_TSC_BASED))
			continue;
		if (!best || o->unc_ppb < best->unc_ppb)
			best = o;
	}
	if (!best)
		return false;
	*t = (struct truth){ best->tsc_hz, best->unc_ppb, source_spec_ppb(best->cs, &cite),
			     best->cs->name, best };
	return true;
}

void cal_events_diag(struct test_env *env, const struct cal_result *r)
{
	char a[24], b[24];

	if (!(r->cs->flags & CS_EVENTS))
		return;
	(void)test_planted(env, "rtc_slow", "the RTC's flag runs at a sixteenth of the rate its "
			   "clocksource was registered with");
	(void)test_planted(env, "rtc_dead", "the RTC's flag is never raised (PIE cleared)");
	diag("%s's last window (%lu ms): %lu flags due, %lu seen (%lu one period after the one "
	     "before; %lu over every window), %lu missed while this vCPU's polls were a period or "
	     "more apart, %lu while it polled at least once a period; the longest step between two "
	     "polls %lu us; %lu window(s) with flags at no steady rate", r->cs->name,
	     r->window_ns / 1000000, r->flags_due, r->samples, r->flags_pairs, r->pairs_seen,
	     r->flags_away, r->flags_held, tsc_to_ns(r->poll_step_max) / 1000, r->erratic_seen);
	if (r->disagreed_tol_ppb)
		diag("%s's window was %s ppm off the ruler's rate (3 sigma combined: %s ppm): "
		     "measured once more alone, the second judged", r->cs->name,
		     fx(a, sizeof(a), r->disagreed_ppb, 3),
		     fx(b, sizeof(b), (s64)r->disagreed_tol_ppb, 3));
}

/*
 * An event source (the RTC's flag) whose every window gave too few
 * distinct flags to fit, judged by its last window's flags as the poller
 * saw them (measure/calibrate.c): a flag is due every period; those due
 * while this vCPU did not poll for a period or more were lost to the
 * host, and when it polled for fewer periods than the fit needs, nothing
 * can be said of the device. (Being away for most of the window is not
 * enough: the planted dead flag under KVM at load ~8 was polled through
 * 43 of 181 periods, as many as with QEMU's main loop starved beside the
 * vCPU, which waits on the lock that loop holds: 28 of 116, 3 flags, none
 * a period apart, FAILed.) Flags missing while it did poll are the
 * device's, except under a hypervisor, whose emulator raises the flag
 * from a thread of its own (QEMU's main loop) that the host may not run
 * while this vCPU runs: those are the emulator's when the flags that did
 * come show the device at its rate, two of them one period apart in some
 * window, or at no steady rate at all (of the stretches between flags
 * that the poller watched whole, the longest over twice the shortest and
 * two periods: a timer whose loop was not run; with QEMU's main loop
 * starved beside a running vCPU, 5 flags of 103 came, none a period
 * apart). A device at a fraction of
 * its rate (the RTC's rates are powers of two apart) gives flags a steady
 * k periods apart, never one, and a dead one none: those FAIL.
 */
static enum verdict events_unusable(struct test_env *env, const struct cal_result *r,
				    const char *what)
{
	u64 polled = r->flags_due > r->flags_away ? r->flags_due - r->flags_away : 0;

	/* The reason line holds 159 characters: the counts are in
	 * cal_events_diag's line above it. */
	if (r->flags_due < CAL_MIN_SAMPLES)
		return error("the window spans %lu periods of %s's %lu Hz flag, %u needed to fit: too "
			     "short for the rate (cal_ms=)", r->flags_due, what, r->cs->freq_hz,
			     CAL_MIN_SAMPLES);
	if (polled < CAL_MIN_SAMPLES) {
		steal_note_unjudged();
		return error("this vCPU polled %s's flag through only %lu of %lu periods, %u needed: "
			     "the host kept it away, cannot judge %s", what, polled, r->flags_due,
			     CAL_MIN_SAMPLES, what);
	}
	if (env->cpu->hypervisor && r->pairs_seen) {
		steal_note_unjudged();
		return error("%s: %lu flags missing while this vCPU polled, yet %lu came a period "
			     "apart: the emulator did not run them (host's), cannot judge %s", what,
			     r->flags_held, r->pairs_seen, what);
	}
	if (env->cpu->hypervisor && r->erratic_seen) {
		steal_note_unjudged();
		return error("%s: %lu flags missing while this vCPU polled, the rest erratic, at no "
			     "steady rate: the emulator did not run them (host's), cannot judge %s",
			     what, r->flags_held, what);
	}
	if (!r->pairs_seen)
		return fail("%s's flag: %lu distinct in %lu periods this vCPU polled, %u needed, never "
			    "two a period apart: not at its %lu Hz", what, r->kept, polled,
			    CAL_MIN_SAMPLES, r->cs->freq_hz);
	return fail("%s's flag: %lu distinct in %lu periods this vCPU polled, %u needed: the "
		    "device held %lu back", what, r->kept, polled, CAL_MIN_SAMPLES, r->flags_held);
}

enum verdict unusable_verdict(struct test_env *env, const struct cal_result *r, const char *what)
{
	if (r->cs->flags & CS_EVENTS)
		return events_unusable(env, r, what);
	if (r->wide && r->samples - r->wide < CAL_MIN_SAMPLES) {
		steal_note_unjudged();
		return error("%lu of the %lu samples against %s came after a polling gap too wide to "
			     "time them (the host kept this vCPU away), %u needed: cannot judge it",
			     r->wide, r->samples, what, CAL_MIN_SAMPLES);
	}
	return fail("only %lu of %lu samples against %s were usable (need %u)",
		    r->samples - r->wide, r->samples, what, CAL_MIN_SAMPLES);
}

enum verdict source_or_verdict(const char *name, struct clocksource **out)
{
	*out = clocksource_find(name);
	return *out ? PASS : absent_verdict(name);
}

static enum verdict cs_present(const char *name)
{
	struct clocksource *cs;
	enum verdict v = source_or_verdict(name, &cs);
	char m[48];

	if (v != PASS)
		return v;
	snprintf_(m, sizeof(m), "%s.freq_hz.nominal", name);
	measure(m, (s64)cs->freq_hz, 0, "Hz");
	diag("rating %d, mask 0x%lx, read: %s%s", cs->rating, cs->mask, cs->read_method,
	     cs->flags & CS_EXITS ? " (exits to the hypervisor when virtualised)" : "");
	return PASS;
}

/* The source's record in the shared read window, or the verdict to
 * return: it is measured on the first call. */
static enum verdict window_or_verdict(struct test_env *env, const char *name,
				      const struct rw_source **out)
{
	struct clocksource *cs;
	enum verdict v = source_or_verdict(name, &cs);

	if (v != PASS)
		return v;
	*out = read_window_source(read_window(env), name);
	if (!*out)
		return error("%s is registered but was not in the shared read window", name);
	return PASS;
}

static enum verdict cs_read_cost(struct test_env *env, const char *name)
{
	const struct read_window *w;
	const struct rw_source *s;
	enum verdict v = window_or_verdict(env, name, &s);
	u64 ns50;
	char m[48];

	if (v != PASS)
		return v;
	w = read_window(env);
	if (w->slow)
		diag("plant=read_cost: every read took 200 us more");
	diag("%lu reads in the shared window (%u kept), bracket overhead %lu cycles subtracted",
	     s->reads, s->kept, w->over);
	if (s->reads < RW_COST_MIN)
		diag("fewer than the %u reads a p99 needs: the window's bound came first",
		     RW_COST_MIN);
	snprintf_(m, sizeof(m), "%s.read_cycles", name);
	measure_percentiles(m, &s->cost, "cycles");
	ns50 = tsc_to_ns(s->cost.p50);
	snprintf_(m, sizeof(m), "%s.read_ns.p50", name);
	measure_x(m, (s64)ns50, 0, "ns", "limit %u ns", READ_COST_LIMIT_NS);
	summary_note("read p50 %lu ns", ns50);
	if (ns50 > READ_COST_LIMIT_NS)
		return fail("a %s read takes %lu ns at the median, over the %u ns a clocksource "
			    "watchdog accepts", name, ns50, READ_COST_LIMIT_NS);
	return PASS;
}

static enum verdict cs_monotonic(struct test_env *env, const char *name)
{
	const struct read_window *w;
	const struct rw_source *s;
	enum verdict v = window_or_verdict(env, name, &s);
	u64 res_ns, n;
	char m[48];

	if (v != PASS)
		return v;
	w = read_window(env);
	if (w->back)
		diag("plant=monotonic: one read of each stepped a millisecond back");
	/* Reads after the first, each compared with the one before. */
	n = s->reads;
	snprintf_(m, sizeof(m), "%s.backwards", name);
	measure_x(m, (s64)s->e.backwards, 0, NULL, "in %lu reads over %lu us, expected 0", n,
		  tsc_to_ns(w->t1 - w->t0) / 1000);
	/* The smallest step seen between back-to-back reads: the tick, or
	 * the read cost when a read takes longer than a tick (0 when none
	 * was seen: an event source whose flag did not come in the window). */
	res_ns = s->minstep == UINT64_MAX ? 0 :
		 mul_div_u64(s->minstep, 1000000000ull * 1000, s->cs->freq_hz);
	snprintf_(m, sizeof(m), "%s.resolution_ns", name);
	measure_x(m, (s64)res_ns, 3, "ns", "smallest step seen: %lu ticks",
		  s->minstep == UINT64_MAX ? 0 : s->minstep);
	if (s->e.backwards)
		return fail("%s went backwards %lu times in %lu reads", name, s->e.backwards, n);
	if (s->minstep == UINT64_MAX && !(s->cs->flags & CS_EVENTS))
		return fail("%s never advanced in %lu reads", name, n);
	return PASS;
}

/*
 * The source's real rate: its nominal rate scaled by (true TSC rate / TSC
 * rate measured against it). The truth is the known answer when given,
 * else the best other independent reference of the same window; the
 * tolerance is their combined uncertainty and the cited accuracies of
 * both (rate_tolerance_ppb).
 */
static enum verdict cs_rate(const char *name, struct test_env *env)
{
	struct clocksource *cs;
	enum verdict v = source_or_verdict(name, &cs);
	const struct cal_result *r = cal_for(name);
	struct truth t;
	u64 meas_milli, tol_ppb, spec;
	const char *cite;
	s64 err_ppb;
	char m[48], a[24], b[24], c[24], d[24];

	if (v != PASS)
		return v;
	if (!r)
		return skip("%s was not part of the calibration", name);
	cal_events_diag(env, r);
	if (r->status)
		return unusable_verdict(env, r, name);
	if (!truth_for(env, r, &t))
		return skip("no known TSC rate (tsc_hz=) and no other independent reference");
	meas_milli = mul_div_u64(cs->freq_hz * 1000, t.tsc_hz, r->tsc_hz);
	/* The source runs at nominal x (true TSC rate / TSC rate by it). */
	err_ppb = ppb_diff(t.tsc_hz, r->tsc_hz);
	tol_ppb = rate_tolerance_ppb(cs, r->unc_ppb, &t);
	spec = source_spec_ppb(cs, &cite);
	snprintf_(m, sizeof(m), "%s.freq_hz.measured", name);
	measure_x(m, (s64)meas_milli, 3, "Hz", "expected %lu, unc %s ppm, truth %s", cs->freq_hz,
		  fx(a, sizeof(a), (s64)r->unc_ppb, 3), t.name);
	diag("held to %s (%s): tol = 3 x sqrt(%s^2 + %s^2) ppm + %s ppm (%s) + %s ppm (the truth's)",
	     t.ref ? "the best other reference (no tsc_hz=)" : "the known answer", t.name,
	     fx(a, sizeof(a), (s64)r->unc_ppb, 3), fx(b, sizeof(b), (s64)t.unc_ppb, 3),
	     fx(c, sizeof(c), (s64)spec, 3), cite,
	     fx(d, sizeof(d), (s64)t.spec_ppb, 3));
	/* The row shows the rate measured, not the nominal one the driver
	 * was registered with: a device off its rate must show it there. */
	summary_note("measured %s Hz (%s ppm)", fx(a, sizeof(a), (s64)meas_milli, 3),
		     fx(b, sizeof(b), err_ppb, 3));
	snprintf_(m, sizeof(m), "%s.freq_err_ppm", name);
	return check_within(m, err_ppb, 0, (s64)tol_ppb, 3, "ppm");
}

#define CS_SUITE(src)								\
	TEST(src, present) { return cs_present(#src); }				\
	TEST(src, read_cost) { return cs_read_cost(env, #src); }			\
	TEST(src, monotonic) { return cs_monotonic(env, #src); }			\
	TEST(src, rate) { return cs_rate(#src, env); }

CS_SUITE(hpet)
CS_SUITE(pm)
CS_SUITE(pit)
CS_SUITE(rtc)
CS_SUITE(kvmclock)
CS_SUITE(hyperv)

TEST(tsc, read_cost) { return cs_read_cost(env, "tsc"); }
TEST(tsc, monotonic) { return cs_monotonic(env, "tsc"); }

/* What only one device has: HPET and PM timer geometry, counter wraps,
 * the RTC's date and seconds, kvm-clock's flags and wall clock. A test may
 * use a driver's own API but must not change the device's state. */
#include "sources.h"
#include "read_window.h"
#include "arch-x86/acpi.h"
#include "arch-x86/cpu.h"
#include "arch-x86/delay.h"
#include "drivers/acpi_pm.h"
#include "drivers/hpet.h"
#include "drivers/kvmclock.h"
#include "drivers/rtc.h"

static bool thorough(struct test_env *env)
{
	return cmdline_has(env->cmd, "thorough");
}

TEST(hpet, info)
{
	struct clocksource *cs;
	enum verdict v = source_or_verdict("hpet", &cs);
	u64 cap;

	if (v != PASS)
		return v;
	cap = mmio_read64(env->acpi->hpet_base.address + HPET_GCAP_ID);
	/* Planted: the capabilities read as if the block had 2 comparators. */
	if (test_planted(env, "hpet_info", "the capabilities read with NUM_TIM_CAP = 1 (2 comparators)"))
		cap = (cap & ~(0x1Full << GCAP_NUM_TIM_SHIFT)) | 1ull << GCAP_NUM_TIM_SHIFT;
	diag("at 0x%lx: capabilities 0x%016lx, vendor 0x%04lx, revision %lu, legacy "
	     "replacement %s", env->acpi->hpet_base.address, cap, cap >> 16 & 0xFFFF,
	     cap & GCAP_REV_MASK, cap & GCAP_LEG_RT_CAP ? "capable" : "no");
	if (cs->mask != ~0ull)
		diag("32-bit main counter: wraps every %lu ms", cs_wrap_ns(cs) / 1000000);
	measure("hpet.width_bits", cs->mask == ~0ull ? 64 : 32, 0, NULL);
	measure("hpet.timers", (s64)((cap >> GCAP_NUM_TIM_SHIFT & 0x1F) + 1), 0, NULL);
	measure_x("hpet.period_fs", (s64)(cap >> GCAP_PERIOD_SHIFT), 0, "fs",
		  "allowed %lu..%lu", HPET_PERIOD_MIN_FS, HPET_PERIOD_MAX_FS);
	/* The spec requires at least 3 comparators on an HPET block. */
	if ((cap >> GCAP_NUM_TIM_SHIFT & 0x1F) + 1 < 3)
		return fail("only %lu comparators; the HPET spec requires 3",
			    (cap >> GCAP_NUM_TIM_SHIFT & 0x1F) + 1);
	return PASS;
}

TEST(pm, info)
{
	struct clocksource *cs;
	enum verdict v = source_or_verdict("pm", &cs);
	const struct pm_info *pi = acpi_pm_info();
	struct acpi_gas g = env->acpi->pm_timer;

	if (v != PASS)
		return v;
	diag("%s 0x%lx, %s reads%s; %d bits wrap every %lu ms", pi->mmio ? "MMIO" : "port",
	     pi->address, pi->verified ? "verified (3-read)" : "plain",
	     pi->verified ? "" : "; pmtimer=verified enables the torn-read check", pi->width,
	     cs_wrap_ns(cs) / 1000000);
	measure("pm.width_bits", pi->width, 0, NULL);
	if (pi->verified)
		measure("pm.verify_retries", (s64)pi->verify_retries, 0, NULL);
	/* Planted: the register's description read 3 bytes wide, as a FADT
	 * whose X_PM_TMR_BLK disagrees with PM_TMR_LEN would give it. */
	if (test_planted(env, "pm_info", "the FADT's PM timer block read as 24 bits wide"))
		g.bit_width = 24;
	/* The block is one 32-bit register (ACPI 5.2.9: PM_TMR_LEN must be
	 * 4; ACPICA warns of an X_PM_TMR_BLK whose bit width differs, and a
	 * 32-bit count does not fit a narrower one). A width of 0 is left
	 * unsaid, not wrong. */
	diag("FADT PM timer block: space %u, %u bits at offset %u", g.space, g.bit_width,
	     g.bit_offset);
	if ((g.bit_width && g.bit_width != 32) || g.bit_offset)
		return fail("the FADT describes the PM timer as %u bits at bit %u: the register is "
			    "32 bits at bit 0 (PM_TMR_LEN 4)", g.bit_width, g.bit_offset);
	return PASS;
}

/* The longest a wrap test watches, within the test watchdog's default
 * 20 s: a 24-bit PM timer's 1.25 wraps (5.9 s) fit, 32-bit counters do
 * not. */
#define WRAP_WATCH_MAX_NS 15000000000ul

/*
 * One wrap window: reads the counter until want_ns has passed, each read
 * bracketed by TSC reads, extending it with the TSC as a hint (a read more
 * than half a wrap after the last one, when the host kept us away, still
 * counts every wrap). *s0 is the earliest read whose bracket is within
 * twice the narrowest, *last the narrowest read after the last wrap due;
 * `dropped` is taken off every count after it (a planted lost wrap).
 * *end_ns is the window's length.
 */
static void wrap_window(struct clocksource *cs, u64 wraps, u64 want_ns, u64 dropped,
			struct cs_extender *e, struct rw_wrap_read *s0, struct rw_wrap_read *last,
			struct steal *st, u64 *end_ns)
{
	static struct rw_wrap r;
	u64 period_ns = cs_wrap_ns(cs), prev_mid, prev_width, mid;

	steal_begin(st, ns_to_tsc(period_ns / 2));
	r = (struct rw_wrap){ .due = ns_to_tsc(period_ns * wraps), .minw = UINT64_MAX };
	r.t0 = steal_poll(st);
	cs_extend_start(e, cs->read(cs));
	prev_mid = steal_poll(st);
	prev_width = prev_mid - r.t0;
	do {
		u64 a = steal_poll(st), raw = cs->read(cs), b = steal_poll(st), total;

		mid = a + (b - a) / 2;
		total = cs_extend_hint(e, cs, raw, mul_div_u64(mid - prev_mid, cs->freq_hz, tsc_hz()),
				       mul_div_u64((b - a + prev_width) / 2, cs->freq_hz, tsc_hz()));
		if (mid - r.t0 >= r.due)
			total -= dropped;
		/* Kept as the shared read window keeps a watched wrap's. */
		rw_wrap_keep(&r, a, b, total);
		prev_mid = mid;
		prev_width = b - a;
	} while (tsc_to_ns(mid - r.t0) < want_ns);
	steal_end(st);
	*end_ns = tsc_to_ns(mid - r.t0);
	*last = r.last;
	rw_wrap_start(&r, s0);
}

/*
 * The wrap as the shared read window watched it (read_window.h: it reads
 * the counter a wrap and a quarter when this test is selected), in
 * wrap_window's terms, so that the first window judged costs nothing of
 * its own (pit.wrap: 72 ms of a 4 s KVM run). The window's longest pause
 * stands for the gaps watched. False when the window did not watch it, or
 * when plant=read_cost or plant=monotonic altered its reads: the test then
 * reads its own window, as it did.
 */
static bool wrap_from_window(struct test_env *env, struct clocksource *cs, u64 dropped,
			     struct cs_extender *e, struct rw_wrap_read *s0,
			     struct rw_wrap_read *last, struct steal *st, u64 *end_ns)
{
	const struct read_window *w = read_window(env);
	const struct rw_source *s = read_window_source(w, cs->name);
	const struct rw_wrap *r;

	if (!s || !s->wrap.want || w->slow || w->back)
		return false;
	r = &s->wrap;
	*e = s->e;
	rw_wrap_start(r, s0);
	if (s0->mid && s0->mid - r->t0 >= r->due)
		s0->total -= dropped;
	*last = r->last;
	last->total -= dropped;
	*st = (struct steal){ .longest = w->gap_max,
			      .gaps = w->gap_max >= ns_to_tsc(cs_wrap_ns(cs) / 2) };
	*end_ns = tsc_to_ns(w->t1 - r->t0);
	return true;
}

/*
 * Watches a narrow counter wrap across `wraps` wraps (wrap_window) and
 * checks the extended count against the TSC between the window's two
 * judged reads (an exit or an absence inside a read makes its time
 * uncertain, and an endpoint carries all of that into the result: both
 * ends' brackets are in the tolerance). The tolerance: the ends'
 * half-brackets over the span, three standard uncertainties of the
 * ruler's calibration, and the 500 ppm Linux allows between two clocks
 * before it calls one of them wrong.
 */
static enum verdict wrap_test(struct test_env *env, const char *name, u64 wraps, bool allowed,
			      const char *why_not)
{
	struct clocksource *cs;
	enum verdict v = source_or_verdict(name, &cs);
	struct cs_extender e;
	struct rw_wrap_read last, s0;
	u64 period_ns, want_ns, tol_ppb = 0, brk_ns = 0, span_ns = 0, dropped = 0, end_ns = 0;
	u64 spent_ns = 0, tries = 0, ruler_ppb;
	bool shared = false;
	const struct cal_run *run = calibrate_last();
	struct steal st;
	char m[48];

	if (v != PASS)
		return v;
	if (cs->mask == ~0ull)
		return skip("%s is 64 bits wide: it never wraps", name);
	period_ns = cs_wrap_ns(cs);
	if (!allowed)
		return skip("%s wraps every %lu ms; %s", name, period_ns / 1000000, why_not);
	/* Bounded by the counter's wrap: a 32-bit PM timer (1200 s) or a
	 * 32-bit HPET at 14.31818 MHz (300 s) would hold the run for
	 * minutes; what carries them across their wraps (the extender) is
	 * host-tested at those rates (tests/host/test_extend.c). */
	if (period_ns > WRAP_WATCH_MAX_NS / (wraps + 1))
		return skip("%s wraps every %lu ms: watching %lu wraps is beyond this test's %lu s",
			    name, period_ns / 1000000, wraps, WRAP_WATCH_MAX_NS / 1000000000);
	want_ns = period_ns * wraps + period_ns / 4;
	snprintf_(m, sizeof(m), "%s_wrap", name);
	/* Planted: the last wrap is left out of the extended count (one
	 * period too few after it), as an extender that missed it would. */
	if (test_planted(env, m, "the last wrap is not added to the extended count"))
		dropped = cs->mask + 1;
	ruler_ppb = run->chosen >= 0 ? 3 * run->r[run->chosen].unc_ppb : 0;
	/* A window whose judged reads the host stretched so far that a lost
	 * wrap would fit in the tolerance is measured again, while another
	 * fits in WRAP_WATCH_MAX_NS (at load 15 the narrowest read after the
	 * last wrap due was 79 ms wide, the tolerance 789109 ppm, and a
	 * planted lost wrap, -351107 ppm, passed). */
	/* The first window is the shared read window's when it watched
	 * this wrap (one wrap only); one measured again is the test's own. */
	for (;;) {
		shared = !tries++ && wraps == 1 &&
			 wrap_from_window(env, cs, dropped, &e, &s0, &last, &st, &end_ns);
		if (!shared)
			wrap_window(cs, wraps, want_ns, dropped, &e, &s0, &last, &st, &end_ns);
		spent_ns += end_ns;
		if (e.wraps < wraps || e.backwards)
			break;
		/* No narrow read near the start, or none after the last wrap
		 * due: the host kept the vCPU away there. Measured again too
		 * (a window is two wraps), unjudged only when none fits. */
		if (!s0.mid || last.mid <= s0.mid) {
			if (spent_ns + want_ns > WRAP_WATCH_MAX_NS) {
				steal_note_unjudged();
				return error("no two reads with narrow brackets in %lu windows: the "
					     "host kept the vCPU away, cannot judge", tries);
			}
			steal_note_remeasured();
			continue;
		}
		brk_ns = tsc_to_ns((s0.width + last.width) / 2);
		span_ns = tsc_to_ns(last.mid - s0.mid);
		tol_ppb = 500000 + ruler_ppb + mul_div_u64(brk_ns, 1000000000ull, span_ns);
		/* A lost or doubled wrap: a whole period over the span. */
		if (2 * tol_ppb < mul_div_u64(period_ns, 1000000000ull, span_ns))
			break;
		if (spent_ns + want_ns > WRAP_WATCH_MAX_NS) {
			steal_note_unjudged();
			return error("the reads' brackets (%lu us at the ends) leave a tolerance of %lu "
				     "ppm, which a lost wrap fits in, in %lu windows: the host kept the "
				     "vCPU away, cannot judge", brk_ns / 1000, tol_ppb / 1000, tries);
		}
		steal_note_remeasured();
	}
	snprintf_(m, sizeof(m), "%s.wraps", name);
	measure_x(m, (s64)e.wraps, 0, NULL, "in %lu ms%s, expected >= %lu", end_ns / 1000000,
		  shared ? " of the shared read window" : "", wraps);
	snprintf_(m, sizeof(m), "%s.wraps_by_tsc", name);
	measure_x(m, (s64)e.missed, 0, NULL, "wraps only the TSC showed: this vCPU was away for more "
		  "than half a wrap (%lu gaps of that, the longest %lu ms); %lu windows measured "
		  "again", st.gaps, tsc_to_ns(st.longest) / 1000000, tries - 1);
	if (e.wraps < wraps || e.backwards)
		return fail("%s wrapped %lu times (expected >= %lu), %lu steps back", name, e.wraps,
			    wraps, e.backwards);
	diag("between reads %lu us apart with brackets %lu and %lu cycles; the ruler's calibration "
	     "3-sigma %lu ppb", span_ns / 1000, s0.width, last.width, ruler_ppb);
	snprintf_(m, sizeof(m), "%s.wrap_err_ppm", name);
	return check_within(m, ppb_diff(mul_div_u64(last.total - s0.total, 1000000000ull,
						    cs->freq_hz), span_ns),
			    0, (s64)tol_ppb, 3, "ppm");
}

/* One wrap, as the PM timer's: a lost one is then ~800000 ppm (two gave
 * 445313), and the second cost every run 55 ms. */
TEST(pit, wrap) { return wrap_test(env, "pit", 1, true, ""); }
TEST(pm, wrap) { return wrap_test(env, "pm", 1, thorough(env), "the wrap test needs `thorough`"); }
TEST(hpet, wrap)
{
	return wrap_test(env, "hpet", 1, thorough(env), "the wrap test needs `thorough`");
}

TEST(rtc, date)
{
	struct rtc_time t;
	const char *why;
	int rc = rtc_read(env->acpi, &t, &why);
	u64 epoch;

	if (rc == -ENODEV)
		return skip("%s", why);
	if (rc)
		return fail("%s", why);
	epoch = rtc_to_unix(&t);
	diag("%04d-%02d-%02d %02d:%02d:%02d UTC (reg B 0x%x, century register %u)", t.year,
	     t.month, t.day, t.hour, t.minute, t.second, cmos_read(RTC_REG_B),
	     env->acpi->fadt ? env->acpi->century_reg : 0);
	measure("rtc.epoch_s", (s64)epoch, 0, "s");
	measure_x("rtc.read_retries", (s64)rtc_read_retries(), 0, NULL, "passes read again because "
		  "two disagreed or another register was selected in one, so far in this run");
	summary_note("%04d-%02d-%02d %02d:%02d:%02d", t.year, t.month, t.day, t.hour, t.minute,
		     t.second);
	/* Sane: after this code was written (2026) and before 2100. */
	if (t.year < 2026 || t.year >= 2100)
		return fail("the RTC says year %d: its battery or the host's clock is wrong", t.year);
	if (!(cmos_read(RTC_REG_D) & REG_D_VRT))
		return fail("register D says the RTC's RAM and time are not valid (battery)");
	/* tick.walltime seeds from the last edge taken (rtc_last_edge)
	 * rather than wait for one of its own when it is this recent. */
	if (test_selected("tick", "walltime")) {
		struct rtc_edge e, e1;
		struct rtc_catch_stats cs;

		/* The clockevent windows may have caught two already, or one
		 * with the next still to be caught later in the run
		 * (tests/test.h: test_poll), which tick.walltime waits for. */
		if (test_poll_pending()) {
			diag("the second edge of a pair for tick.walltime is still to come: the "
			     "tests after the clockevent windows catch it");
			return PASS;
		}
		if (rtc_edge_pair(&e, &e1)) {
			diag("second edges of %lu and %lu s caught for tick.walltime earlier in the "
			     "run, placed within %lu / %lu us", e.unix_s, e1.unix_s,
			     tsc_to_ns(e.unc) / 1000, tsc_to_ns(e1.unc) / 1000);
			return PASS;
		}
		rtc_edge_catch_stats(&cs);
		if (cs.edges)
			diag("no pair of second edges caught earlier in the run: %u seen in passing, "
			     "placed within %lu-%lu us (a pair needs one placed as edge_wait places "
			     "edges, the other within 1 ms)", cs.edges, cs.min_unc_ns / 1000, cs.max_unc_ns / 1000);
		/* One try: a second more would cost what it saves. */
		if (rtc_edge_within(env->acpi, &e, RTC_UIP_LEAD_NS, 1, &why))
			diag("no second edge taken for tick.walltime: %s", why);
		else
			diag("second edge of %lu s taken for tick.walltime, placed within %lu us",
			     e.unix_s, tsc_to_ns(e.unc) / 1000);
	}
	return PASS;
}

/*
 * Two seconds of the RTC between three of its second edges (drivers/rtc.h:
 * UIP's rise + 244 us), against the truth. The tolerance is both edges'
 * brackets over the span, three of the truth's uncertainty, what it rests
 * on, and the RTC crystal's 23 ppm (DS12887).
 */
TEST(rtc, second)
{
	struct rtc_edge e0, e1, e2;
	struct truth t;
	const char *why;
	u64 span_ns, tol;
	s64 err;
	char a[24];
	int rc;

	if (!thorough(env))
		return skip("waiting for second edges takes 2 s; needs `thorough`");
	if (cmos_read(RTC_REG_A) == 0xFF)
		return skip("no CMOS RTC answers");
	test_poll(TEST_POLL_NOW);	/* an edge still to be caught first (tests/test.h) */
	rc = rtc_second_edge(env->acpi, &e0, &why);
	/* The window opens here: a planted fault acts after this line
	 * (tools/faults.cfg, qmp-stop), however often the edge was retaken. */
	if (!rc && test_verbose())
		diag("rtc.second: first edge taken (RTC second %lu)", e0.unix_s);
	if (!rc)
		rc = rtc_second_edge(env->acpi, &e1, &why);
	if (!rc)
		rc = rtc_second_edge(env->acpi, &e2, &why);
	if (rc)
		return fail("no second edge of the RTC: %s", why);
	truth_or_ruler(env, &t);
	/* (e2 - e0) cycles at the truth's rate against the seconds between. */
	span_ns = mul_div_u64(e2.tsc - e0.tsc, 1000000000ull, t.tsc_hz);
	err = ppb_diff(span_ns, (e2.unix_s - e0.unix_s) * 1000000000ull);
	tol = mul_div_u64(tsc_to_ns(e0.unc + e2.unc), 1000000000ull, span_ns) + 3 * t.unc_ppb +
	      t.spec_ppb + RTC_SPEC_PPB;
	diag("edges placed within %lu / %lu us over %lu s (%d taken again: the vCPU did not run "
	     "through UIP's 244 us), by %s (unc %s ppm); + 23 ppm for the RTC crystal (DS12887)",
	     tsc_to_ns(e0.unc) / 1000, tsc_to_ns(e2.unc) / 1000, e2.unix_s - e0.unix_s,
	     e0.retaken + e1.retaken + e2.retaken, t.name, fx(a, sizeof(a), (s64)t.unc_ppb, 3));
	return check_within("rtc.second_err_ppm", err, 0, (s64)tol, 3, "ppm");
}

TEST(kvmclock, flags)
{
	struct clocksource *cs;
	enum verdict v = source_or_verdict("kvmclock", &cs);
	const struct kvmclock_info *ki = kvmclock_info();
	struct pvclock_time p;

	if (v != PASS)
		return v;
	/* Planted: this CPU's record left with an odd version, as a
	 * hypervisor that never finished an update leaves it (the record's
	 * address is what the system-time MSR holds, bit 0 the enable). */
	if (test_planted(env, "kvmclock_flags", "this CPU's pvclock version left odd")) {
		volatile struct pvclock_time *rec = (volatile struct pvclock_time *)(uintptr_t)
			(rdmsr(ki->new_msrs ? MSR_KVM_SYSTEM_TIME_NEW : MSR_KVM_SYSTEM_TIME) & ~1ull);
		bool settled;

		rec->version |= 1;
		settled = kvmclock_snapshot(&p);
		rec->version++;		/* even again: as the hypervisor would */
		if (!settled)
			return fail("the pvclock version never settled in %u tries",
				    PVCLOCK_MAX_RETRIES);
	}
	if (!kvmclock_snapshot(&p))
		return fail("the pvclock version never settled in %u tries", PVCLOCK_MAX_RETRIES);
	diag("%s MSRs, version %u, mul %u, shift %d, flags 0x%x (stable %s, guest stopped %s)",
	     ki->new_msrs ? "new (0x4b564d0x)" : "old (0x11/0x12)", p.version,
	     p.tsc_to_system_mul, p.tsc_shift, p.flags, p.flags & PVCLOCK_TSC_STABLE ? "yes" : "no",
	     p.flags & PVCLOCK_GUEST_STOPPED ? "yes" : "no");
	measure("kvmclock.stable", p.flags & PVCLOCK_TSC_STABLE ? 1 : 0, 0, NULL);
	measure("kvmclock.retries", (s64)ki->retries, 0, NULL);
	/* What the hypervisor changed so far in this run, on every CPU: a
	 * finding about the host (kvm_guest_time_update's rewrites), judged
	 * where it matters (tsc.freq_kvmclock measures again a window that
	 * had one, smp.kvmclock and kvmclock.monotonic see the steps). */
	measure_x("kvmclock.updates", (s64)ki->updates, 0, NULL, "times a CPU's record had a new "
		  "version since that CPU's previous read");
	measure_x("kvmclock.rebases", (s64)ki->rebases, 0, NULL, "of them, with a new base or "
		  "scale (%lu with a new mul/shift); the latest step %ld ns", ki->scale_changes,
		  ki->step_last_ns);
	measure_x("kvmclock.rebase_step_ns.max", (s64)ki->step_max_ns, 0, "ns", "the largest jump "
		  "a re-base made: the new record's time minus the old's, at one TSC value");
	if (ki->failures)
		return fail("%lu reads never got a consistent pvclock snapshot", ki->failures);
	/* Offering the stable-bit feature but not setting the bit is not
	 * wrong (KVM clears it when host clocks are unstable): a finding. */
	if (ki->stable_feature && !(p.flags & PVCLOCK_TSC_STABLE))
		diag("the hypervisor offers the stable bit but does not set it");
	return PASS;
}

/*
 * kvm-clock's wall time at an RTC second edge. QEMU starts its RTC on the
 * host's whole second (hw/rtc/mc146818rtc.c, rtc_set_date_from_host: the
 * date from a struct tm, the count from then), so its seconds turn up to
 * a second after the host's: at an edge, kvm-clock's wall time is the
 * RTC's second plus [0, 1) s, and the edge's bracket on top.
 */
/* An edge the periodic windows caught is some seconds old here under KVM
 * (2.3 s on an idle host): carried 6 s it adds at most 3.2 ms to the
 * 500 ms the check allows, where waiting for one of our own costs up to
 * a second. */
#define KVM_WALL_REUSE_NS	6000000000ull
#define KVM_WALL_EDGE_NS	10000000ull

/* Whether edge e (have: there is one) serves kvmclock.wall: placed within
 * KVM_WALL_EDGE_NS, at most KVM_WALL_REUSE_NS old. */
static bool wall_edge_serves(bool have, const struct rtc_edge *e)
{
	return have && tsc_to_ns(e->unc) <= KVM_WALL_EDGE_NS &&
	       tsc_to_ns(rdtsc_ordered() - e->tsc) <= KVM_WALL_REUSE_NS;
}

TEST(kvmclock, wall)
{
	struct clocksource *cs;
	enum verdict v = source_or_verdict("kvmclock", &cs);
	struct rtc_edge e;
	const char *why;
	u64 a, b, wall, carry_us = 0;
	bool carried = false;
	s64 diff_us;

	if (v != PASS)
		return v;
	if (!kvmclock_wall_ns())
		return fail("the kvm-clock wall-clock record is empty or never settled");
	/* An edge an earlier test took (rtc.date) in the last KVM_WALL_REUSE_NS
	 * serves, carried here by the ruler: its error over that span (the
	 * ruler's cited 500 ppm and the RTC's 23 ppm) joins the tolerance, as
	 * does its bracket. A bracket within KVM_WALL_EDGE_NS (1 % of the
	 * second the check allows) does, here or of our own. So does the last
	 * edge the clockevent windows caught, the first of tick.walltime's
	 * pair when its second was left to the tests after them: waiting for
	 * that second here (test_poll) made the run wait idle for it, 377 ms
	 * in a default KVM run, where one edge suffices. */
	carried = wall_edge_serves(rtc_last_edge(&e), &e) ||
		  wall_edge_serves(rtc_edge_catch_last(&e), &e);
	if (!carried) {
		test_poll(TEST_POLL_NOW);	/* an edge still to be caught (tests/test.h) */
		carried = wall_edge_serves(rtc_last_edge(&e), &e);
	}
	if (carried) {
		carry_us = mul_div_u64(tsc_to_ns(rdtsc_ordered() - e.tsc), REF_SPEC_PPB + RTC_SPEC_PPB,
				       1000000000ull * 1000);
	} else if (rtc_edge_within(env->acpi, &e, KVM_WALL_EDGE_NS, RTC_EDGE_TRIES, &why))
		return skip("no RTC edge to compare with: %s", why);
	a = rdtsc_ordered();
	wall = kvmclock_wall_ns();
	b = rdtsc_ordered();
	/* Back to the edge by the ruler. */
	a += (b - a) / 2;
	diff_us = ((s64)wall - (a >= e.tsc ? (s64)tsc_to_ns(a - e.tsc) : -(s64)tsc_to_ns(e.tsc - a)) -
		   (s64)(e.unix_s * 1000000000ull)) / 1000;
	diag("at the RTC edge of %lu s (placed within %lu us, %d taken again%s); expected [0, 1000) "
	     "ms by QEMU starting its RTC on a whole host second", e.unix_s,
	     tsc_to_ns(e.unc) / 1000, e.retaken, carried ? ", taken earlier in the run" : "");
	if (carried)
		diag("the edge carried here by the ruler over %lu ms: + %lu us for 523 ppm over that",
		     tsc_to_ns(a - e.tsc) / 1000000, carry_us);
	return check_within("walltime.kvmclock_vs_rtc_ms", diff_us, 500000,
			    500000 + (s64)(tsc_to_ns(e.unc + (b - a)) / 1000 + carry_us), 3, "ms");
}

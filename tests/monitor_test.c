/*
 * Monitor mode (monitor=SECONDS): the tick layer keeps running while every
 * clocksource is cross-checked against the others at a steady cadence, and
 * each anomaly is reported as it happens, as a line
 *   # event: <kind> source=<name> at_s=<time> <kind-specific fields>
 * Kinds: jump (a source advanced by size_ms more than the median of all),
 * backwards, rate (ppm against the others changed), ticks (the emulated
 * tick had to catch up: late_ms, jiffies; or a periodic PIT/RTC's
 * deficit of ticks against the clock changed), guest_stopped (kvm-clock's
 * flag), walltime (the tick's wall time against the RTC moved by
 * size_ms). The host tool's scenarios pause, snapshot or starve the VM
 * and check these against what they did.
 *
 * Policy after a jump: jiffies catch up with the time that passed (one
 * per period), and each late software timer runs once, then re-arms from
 * now; nothing is replayed.
 * It must not judge anomalies: they are findings, reported as events.
 */
#include "sources.h"
#include "arch-x86/cpu.h"
#include "drivers/kvmclock.h"
#include "drivers/rtc.h"
#include "lib/stats.h"
#include "tick/tick.h"

#define CADENCE_NS	20000000ull	/* a cross-check every 20 ms */
#define RATE_WINDOW	50		/* cadences: 1 s */
#define JUMP_MIN_NS	2000000ll	/* 2 ms ... */
#define JUMP_FRAC	20		/* ... or 5 % of the interval, whichever is more */
#define RATE_CHANGE_PPB	500000		/* Linux's 500 ppm */
#define MAX_SRC		CS_MAX

struct mon_src {
	struct clocksource *cs;
	struct cs_extender ext;
	u64 last_total;
	u64 backwards_seen;
	s64 win_ns;		/* this source's time over the rate window */
	s64 offset_ns;		/* how far ahead of the median it is, in all */
	s64 prev_ppb;		/* its rate against the median, last window */
	bool have_rate;
};

static struct mon_src src[MAX_SRC];
static int nsrc;
static u64 events;

static void event_at(const char *kind, const char *name, u64 at_ns, const char *fmt, ...)
	PRINTF_FMT(4, 5);

/*
 * Periodic devices counted against time, so that what a lost-tick policy
 * does shows: the deficit (ticks due by the clock minus ticks taken)
 * grows while the VM does not run, and stays (discard) or is paid back
 * (delay/slew reinjection).
 */
#define PIT_MON_HZ	100
#define RTC_MON_HZ	64

struct mon_dev {
	struct clockevent *ce;
	u64 hz;
	volatile u64 count;
	u64 start_ns;
	s64 deficit, deficit_max, reported;
};

static struct mon_dev devs[2];

static void count_tick(struct clockevent *ce)
{
	for (int i = 0; i < 2; i++)
		if (devs[i].ce == ce)
			devs[i].count++;
}

static void devs_start(u64 now)
{
	const char *names[2] = { "pit", "rtc" };
	u64 rates[2] = { PIT_MON_HZ, RTC_MON_HZ };

	for (int i = 0; i < 2; i++) {
		struct clockevent *ce = clockevent_find(names[i]);

		devs[i] = (struct mon_dev){ .hz = rates[i] };
		if (!ce || !(ce->features & CE_PERIODIC))
			continue;
		ce->handler = count_tick;
		if (ce->set_periodic(ce, rates[i])) {
			ce->handler = NULL;
			continue;
		}
		devs[i].ce = ce;
		devs[i].start_ns = now;
	}
}

/* Reports a change of 2 ticks or more in a device's deficit. */
static void devs_check(u64 now, u64 t)
{
	for (int i = 0; i < 2; i++) {
		struct mon_dev *d = &devs[i];
		s64 due;

		if (!d->ce)
			continue;
		due = (s64)mul_div_u64(now - d->start_ns, d->ce->period_mhz, 1000000000000ull);
		d->deficit = due - (s64)d->count;
		d->deficit_max = MAX(d->deficit_max, d->deficit);
		if (d->deficit - d->reported >= 2 || d->reported - d->deficit >= 2) {
			event_at("ticks", d->ce->name, t, "deficit=%ld was=%ld", d->deficit, d->reported);
			d->reported = d->deficit;
		}
	}
}

static void devs_stop(void)
{
	char m[48];

	for (int i = 0; i < 2; i++) {
		if (!devs[i].ce)
			continue;
		devs[i].ce->handler = NULL;
		devs[i].ce->shutdown(devs[i].ce);
		snprintf_(m, sizeof(m), "monitor.%s.deficit_max", devs[i].ce->name);
		measure_x(m, devs[i].deficit_max, 0, "ticks", "at %lu Hz", devs[i].hz);
		snprintf_(m, sizeof(m), "monitor.%s.deficit_end", devs[i].ce->name);
		measure_x(m, devs[i].deficit, 0, "ticks", "ticks due by the clock, not taken, at the end");
	}
}


static void event_at(const char *kind, const char *name, u64 at_ns, const char *fmt, ...)
{
	char rest[128], at[24];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf_(rest, sizeof(rest), fmt, ap);
	va_end(ap);
	diag("event: %s source=%s at_s=%s %s", kind, name, fx(at, sizeof(at), (s64)(at_ns / 1000000),
	     3), rest);
	events++;
}

static s64 median_s64(s64 *v, int n)
{
	/* n <= MAX_SRC: insertion sort. */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
			s64 t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Once a second: every source's offset from the median so far, in ms,
 * for drift-over-time plots ("# sample: at_s=T tsc=0.012 hpet=..."). */
static void print_sample(u64 at_ns)
{
	char line[160], v[24];
	int len;

	len = snprintf_(line, sizeof(line), "sample: at_s=%s", fx(v, sizeof(v),
			(s64)(at_ns / 1000000), 3));
	for (int i = 0; i < nsrc && len < (int)sizeof(line) - 40; i++)
		len += snprintf_(line + len, sizeof(line) - (size_t)len, " %s=%s", src[i].cs->name,
				 fx(v, sizeof(v), src[i].offset_ns / 1000, 3));
	diag("%s", line);
}

/* True when the RTC seconds register went from a to b by one second
 * (BCD or binary, wrapping at 60). */
static bool one_second_later(u8 a, u8 b)
{
	u8 regb = cmos_read(RTC_REG_B);

	return (rtc_decode(a, regb) + 1) % 60 == rtc_decode(b, regb);
}

/* The run's state from one cross-check to the next. */
struct mon_run {
	u64 start_ns;		/* monitor time 0, on the tick's clock */
	u64 cycles;		/* cross-checks done */
	u64 jumps;
	u64 last_catchup;	/* tick catch-up jiffies already reported */
	bool dirty;		/* a jump spoiled this rate window */
	/* The RTC's second edges, see check_rtc. */
	s64 rtc_base, rtc_last_drift;
	u8 rtc_prev;		/* seconds register at the last poll, 0xFF: none */
	u64 rtc_prev_poll;
	bool rtc_have;
};

/* The counters to cross-check: every clocksource but event sources and
 * counters that wrap too fast to be extended. */
static void pick_sources(void)
{
	nsrc = 0;
	for (int i = 0; i < clocksource_count() && nsrc < MAX_SRC; i++) {
		struct clocksource *cs = clocksource_get(i);

		if (cs->flags & CS_EVENTS)
			continue;
		/* A counter that wraps within a few cadences (the PIT: 55 ms)
		 * cannot be extended when the CPU is held up for longer. */
		if (mul_div_u64(cs->mask / 2, 1000000000ull, cs->freq_hz) < 10 * CADENCE_NS) {
			diag("%s left out: it wraps every %lu ms", cs->name,
			     mul_div_u64(cs->mask, 1000, cs->freq_hz));
			continue;
		}
		src[nsrc] = (struct mon_src){ .cs = cs };
		cs_extend_start(&src[nsrc].ext, cs->read(cs));
		nsrc++;
	}
}

/* Every source's elapsed time since the last look, against the median of
 * all: a step back or a jump is an event; the rest adds to the window
 * that rates are taken over. */
static void check_elapsed(struct mon_run *r, u64 now)
{
	s64 el[MAX_SRC], sorted[MAX_SRC], med;

	for (int i = 0; i < nsrc; i++) {
		struct mon_src *m = &src[i];
		u64 total = cs_extend(&m->ext, m->cs, m->cs->read(m->cs));

		el[i] = (s64)mul_div_u64(total - m->last_total, 1000000000ull, m->cs->freq_hz);
		sorted[i] = el[i];
		m->last_total = total;
		if (m->ext.backwards > m->backwards_seen) {
			event_at("backwards", m->cs->name, now - r->start_ns, "steps=%lu",
				 m->ext.backwards - m->backwards_seen);
			m->backwards_seen = m->ext.backwards;
		}
	}
	med = median_s64(sorted, nsrc);
	/* The first interval only sets the baseline: the sources were
	 * started one after the other. */
	for (int i = 0; i < nsrc && r->cycles > 0; i++) {
		s64 dev = el[i] - med, lim = MAX(JUMP_MIN_NS, med / JUMP_FRAC);

		src[i].offset_ns += dev;
		if (dev > lim || dev < -lim) {
			char sz[24];

			event_at("jump", src[i].cs->name, now - r->start_ns, "size_ms=%s median_ms=%ld",
				 fx(sz, sizeof(sz), dev / 1000, 3), med / 1000000);
			r->jumps++;
			r->dirty = true;	/* this window says nothing about rates */
			continue;
		}
		src[i].win_ns += el[i];
	}
}

/* At the end of a rate window: each source's rate against the median
 * over the window (an event when it changed), and the sample line. */
static void check_rates(struct mon_run *r, u64 now)
{
	s64 w[MAX_SRC], wm;

	for (int i = 0; i < nsrc; i++)
		w[i] = src[i].win_ns;
	wm = median_s64(w, nsrc);
	for (int i = 0; i < nsrc && r->dirty; i++) {
		src[i].have_rate = false;
		src[i].win_ns = 0;
	}
	for (int i = 0; i < nsrc && wm > 0 && !r->dirty; i++) {
		s64 ppb = mul_div_s64(src[i].win_ns - wm, 1000000000ull, (u64)wm);

		if (src[i].have_rate && src[i].win_ns &&
		    (ppb - src[i].prev_ppb > RATE_CHANGE_PPB ||
		     src[i].prev_ppb - ppb > RATE_CHANGE_PPB)) {
			char a[24], b[24];

			event_at("rate", src[i].cs->name, now - r->start_ns,
				 "before_ppm=%s after_ppm=%s",
				 fx(a, sizeof(a), src[i].prev_ppb, 3), fx(b, sizeof(b), ppb, 3));
		}
		src[i].prev_ppb = ppb;
		src[i].have_rate = src[i].win_ns != 0;
		src[i].win_ns = 0;
	}
	r->dirty = false;
	print_sample(now - r->start_ns);
}

/* Signs that the CPU did not run: the emulated tick had to catch up, or
 * kvm-clock's guest-stopped flag is set (acknowledged here). */
static void check_stopped(struct mon_run *r, const struct clockevent *ce, u64 now)
{
	struct pvclock_time pv;

	if (tick_stats()->catchup > r->last_catchup) {
		u64 missed = tick_stats()->catchup - r->last_catchup;

		event_at("ticks", ce->name, now - r->start_ns, "late_ms=%lu jiffies=%lu",
			 missed * tick_period_ns() / 1000000, missed);
		r->last_catchup = tick_stats()->catchup;
	}
	if (clocksource_find("kvmclock") && kvmclock_snapshot(&pv) &&
	    (pv.flags & PVCLOCK_GUEST_STOPPED)) {
		event_at("guest_stopped", "kvmclock", now - r->start_ns, "flags=0x%x", pv.flags);
		kvmclock_clear_stopped();
	}
}

/*
 * The RTC at its second edges: an edge seen by two polls one cadence
 * apart is known to a cadence; between two such edges it must advance as
 * much as the tick's time did. (A change by more than one second is a
 * jump seen between edges: wait for the next true edge to measure it.)
 */
static void check_rtc(struct mon_run *r, struct test_env *env, u64 now)
{
	u8 rtc_s = cmos_read(RTC_SECONDS);
	struct rtc_time rt;
	const char *why;

	if (r->rtc_prev != 0xFF && rtc_s != r->rtc_prev && now - r->rtc_prev_poll < 2 * CADENCE_NS &&
	    !rtc_read(env->acpi, &rt, &why) && one_second_later(r->rtc_prev, rtc_s)) {
		s64 drift = (s64)rtc_to_unix(&rt) * 1000 - (s64)(now / 1000000);

		if (!r->rtc_have) {
			r->rtc_base = drift;
			r->rtc_last_drift = drift;
			r->rtc_have = true;
		} else if (drift - r->rtc_last_drift > 500 || r->rtc_last_drift - drift > 500) {
			event_at("jump", "rtc", now - r->start_ns, "size_ms=%ld total_ms=%ld",
				 drift - r->rtc_last_drift, drift - r->rtc_base);
			event_at("walltime", "rtc", now - r->start_ns, "size_ms=%ld",
				 drift - r->rtc_last_drift);
			r->jumps++;
			r->rtc_last_drift = drift;
		}
	}
	r->rtc_prev = rtc_s;
	r->rtc_prev_poll = now;
}

TEST_EXPLICIT(monitor, run)
{
	u64 seconds = cmdline_u64(env->cmd, "monitor", 1, 86400, 10), end_ns;
	struct clockevent *ce = clockevent_best(CE_PERIODIC | CE_ONESHOT);
	struct clocksource *tsc = clocksource_find("tsc");
	struct mon_run r = { .rtc_prev = 0xFF };
	struct rtc_time rt;
	const char *why;
	bool halt;

	if (!ce || !tsc)
		return skip("monitor mode needs a clockevent with both modes and the TSC");
	halt = !(ce->features & CE_PERCPU);
	watchdog_pause();	/* the run is as long as asked */
	if (tick_start(ce, tsc, HZ_DEFAULT, rtc_read(env->acpi, &rt, &why) ? 0 :
		       rtc_to_unix(&rt) * 1000000000ull) || tick_switch_oneshot()) {
		tick_stop();
		watchdog_resume();
		return error("could not start the tick on %s", ce->name);
	}
	pick_sources();
	diag("monitoring %d sources for %lu s every %llu ms; tick on %s, oneshot, HZ=%d", nsrc,
	     seconds, CADENCE_NS / 1000000, ce->name, HZ_DEFAULT);
	events = 0;
	r.start_ns = tick_now_ns();
	devs_start(r.start_ns);
	end_ns = r.start_ns + seconds * 1000000000ull;
	for (u64 now = r.start_ns; now < end_ns; r.cycles++) {
		tick_idle_until(now + CADENCE_NS, halt);
		now = tick_now_ns();
		check_elapsed(&r, now);
		if (r.cycles % RATE_WINDOW == RATE_WINDOW - 1)
			check_rates(&r, now);
		check_stopped(&r, ce, now);
		check_rtc(&r, env, now);
		devs_check(now, now - r.start_ns);
	}
	devs_stop();
	tick_stop();
	watchdog_resume();
	measure("monitor.seconds", (s64)seconds, 0, "s");
	measure("monitor.checks", (s64)r.cycles, 0, NULL);
	measure("monitor.events", (s64)events, 0, NULL);
	measure("monitor.jumps", (s64)r.jumps, 0, NULL);
	measure("monitor.tick_catchup_jiffies", (s64)tick_stats()->catchup, 0, NULL);
	summary_note("%lu events in %lu s", events, seconds);
	/* Anomalies are findings, reported as events; the run itself passes
	 * when it kept checking to the end. */
	return r.cycles ? PASS : error("no cross-check completed");
}

/*
 * tick.periodic's window and fit: every jiffy's advance and the TSC of its
 * interrupt, polled under watch for the host's absences, and one rate
 * fitted over the stretches where this vCPU and the emulator ran.
 */
#include "jiffies_fit.h"
#include "arch-x86/cpu.h"
#include "arch-x86/delay.h"
#include "arch-x86/kvmsteal.h"
#include "drivers/lapic_timer.h"

#define RENUMBER_PASSES	4
#define LEAVE_OUT_PASSES	6	/* refits after leaving stretches out, at most */
#define FIT_SPARE	8	/* points past FIT_MIN_TICKS a window stops with */
/* The same for a window stamped by the count: its steps between count
 * stamps do not look at the emulator's absences, so the fit at the end
 * keeps what the window's own fit kept but around a read too wide. */
#define FIT_SPARE_COUNT	2
#define STRETCH_MIN	2	/* ticks a stretch keeps at least: one step of jiffies */

/* jiffies and the TSC of the tick that made them, read together. */
static void snapshot(struct clockevent *ce, u64 *j, u64 *tsc)
{
	u64 f = irq_save();

	*j = tick_jiffies();
	*tsc = ce->irq_tsc;
	irq_restore(f);
}

static u64 jif_k[PERIODIC_MAX], jif_t[PERIODIC_MAX];
/* Per advance stamped by the count: half its read's bracket (at least 1);
 * 0 when stamped by arrival. */
static u64 jif_h[PERIODIC_MAX];

bool jiffy_by_count(const struct clockevent *ce)
{
	return !__builtin_strcmp(ce->name, "lapic") && ce->period_ticks && ce->freq_hz;
}

/*
 * jiffies, the arrival of the interrupt that made them (*tsc) and the
 * start of the device period it came in (*start_out), read together: the
 * current count, bracketed by the TSC, says how far into its period the
 * device is (it counts down from the initial count; QEMU's period holds
 * one tick more for the reload, KVM's does not: tests/periodic.c); that
 * period began `elapsed` ticks before the read.
 * When the read fell in a later period than the arrival, the start is
 * moved back by whole periods (the expected one) to the last at or before
 * the arrival. *half gets half the read's bracket (at least 1); 0, with
 * the arrival as the start, when its bracket is wider than half a period:
 * no period can be told then.
 */
static void snapshot_count(struct clockevent *ce, const struct rate_expect *x, u64 *j,
			   u64 *tsc, u64 *start_out, u64 *half)
{
	u64 f = irq_save(), a, b, cur, elapsed, start, per;

	*j = tick_jiffies();
	*tsc = ce->irq_tsc;
	a = rdtsc_ordered();
	cur = lapic_timer_current();
	b = rdtsc_ordered();
	irq_restore(f);
	per = x->uhz ? mul_div_u64(tsc_hz(), 1000000, x->uhz) : ns_to_tsc(tick_period_ns());
	*half = 0;
	*start_out = *tsc;
	if (b - a > per / 2 || !*tsc)
		return;
	elapsed = mul_div_u64(cur <= ce->period_ticks ? ce->period_ticks - cur : 0, tsc_hz(),
			      ce->freq_hz);
	start = a + (b - a) / 2 - MIN(elapsed, a + (b - a) / 2);
	/* At or before the arrival within the read's own half-bracket and
	 * a 1024th of a period (the expected period a few ppm off the
	 * device's over the read's ticks): that is the arrival's period. */
	if (start > *tsc + (b - a) / 2 + per / 1024)
		start -= ((start - *tsc) + per - 1) / per * per;
	*start_out = start;
	*half = MAX((b - a) / 2, 1ull);
}

/* Per advance: this vCPU was away a period or more (JIF_AWAY: a tick may
 * have coalesced there) or less (JIF_DELAYED: the tick may have been held
 * up) just before it was taken. */
static u8 jif_away[PERIODIC_MAX];
#define JIF_AWAY	1
#define JIF_DELAYED	2
static u64 pres_k[PERIODIC_MAX], pres_t[PERIODIC_MAX];
static bool pres_joint[PERIODIC_MAX];	/* numbered by time from the one before */

/* Height of point i above the fitted line (negative below), cycles. */
static s64 above_line(const struct envelope *e, u64 i)
{
	u64 dk = e->kb - e->ka, dt = e->tb - e->ta;
	s64 line = pres_k[i] >= e->ka ? (s64)mul_div_u64(pres_k[i] - e->ka, dt, dk)
				      : -(s64)mul_div_u64(e->ka - pres_k[i], dt, dk);

	return (s64)(pres_t[i] - e->ta) - line;
}

/* The floor (least height above the line) of the stretch of the m points
 * kept that starts at a; the next stretch's start into *b. */
static s64 stretch_floor(const struct envelope *e, u64 a, u64 m, u64 *b)
{
	s64 fl = above_line(e, a);

	for (*b = a + 1; *b < m && !pres_joint[*b]; (*b)++)
		fl = MIN(fl, above_line(e, *b));
	return fl;
}

static bool step_ok[PERIODIC_MAX];	/* present_step of each step */
/* Each stretch's floor against the fit's line, by the stretch's start a:
 * fl_at[a], and where it ends, fl_end[a]; fl_ok while the line and the
 * points are those they were worked out for (a pass over them per use
 * took milliseconds under kvm_pvm). */
static s64 fl_at[PERIODIC_MAX];
static u64 fl_end[PERIODIC_MAX];
static bool fl_ok;

static void stretch_floors(const struct envelope *e, u64 m)
{
	if (fl_ok)
		return;
	for (u64 a = 0, b; a < m; a = b) {
		fl_at[a] = stretch_floor(e, a, m, &b);
		fl_end[a] = b;
	}
	fl_ok = true;
}

/*
 * One rate over the stretches where the vCPU and the emulator were
 * present. An advance ends an absence when this vCPU was away since the
 * one before (away[], seen as it polled: a window's gapset keeps only
 * GAPS_MAX intervals and merges the rest with what lies between), when the
 * emulator was (g, when given), or when its jiffies disagree with the
 * whole periods its step took (to the nearest): the host's absence could
 * not be seen (KVM injects the LAPIC timer's interrupts from a thread the
 * guest cannot watch; on a loaded host 16 jiffies lost with none seen).
 * Across an absence the periodic device's ticks coalesce (a jiffy lost,
 * the tick after it late), so such an advance is left out (and a stretch
 * too short to number its own ticks), and the next one kept is numbered
 * from the last one kept by the time between them, in periods of the rate
 * so far once that spans at least the absence, else of the expected rate
 * (a rate from a short start is worse than the expectation: 60 ms of
 * ticks 1-2 ms late gave one 1% off, and every joint after it was counted
 * by it): a rate error moves the count by a fraction of a period over the
 * absence, which the slope then shows. Inside a stretch the jiffies
 * number the ticks. Then each stretch is moved to the whole periods its
 * floor lies off the fitted line, and one still a quarter period off is
 * left out. One fit over the points kept, so its uncertainty holds over
 * the whole span (fitting each stretch alone stated a few ppm for four
 * points on their own hull, and failed clean runs at -651 ppm). The host's coalesced ticks never widen the
 * tolerance: the rate is judged on ticks that came while we ran.
 */
static bool present_step(const u64 *t, const u64 *k, const u8 *away, const struct gapset *g,
			 u64 period, u64 i)
{
	/* Both ends stamped by the count: the time between them is whole
	 * periods however long the host held either up, and a tick it
	 * coalesced shows as jiffies short of them; an absence then ends
	 * nothing by itself. */
	bool exact = jif_h[i] && jif_h[i - 1];
	bool present = exact || (!(away[i] & JIF_AWAY) &&
				 !(g && gaps_total_in(g, t[i - 1], t[i]) >= period));

	return present && k[i] - k[i - 1] == (t[i] - t[i - 1] + period / 2) / period;
}

/* Fits the first m points again, numbered from 0 (periodic_fit counts
 * from the first); false, with the fit marked invalid, when it holds fewer
 * than FIT_MIN_TICKS: the uncertainty periodic_fit states is then not
 * known to hold (four points on their own hull stated 0.056 ppm and were
 * 114446 ppm off, on a host that kept us away). */
static bool refit(struct present_fit *p, u64 m, u64 period)
{
	for (u64 i = m; i-- > 0;)
		pres_k[i] -= pres_k[0];
	periodic_fit(pres_t, pres_k, m, period, &p->f);
	fl_ok = false;	/* a new line, and points maybe moved */
	if (p->f.status || p->f.n < FIT_MIN_TICKS) {
		p->f.status = -EINVAL;
		return false;
	}
	return true;
}

static u64 trend_scratch[PERIODIC_MAX / 3 + 1], floors[PERIODIC_MAX], halves[PERIODIC_MAX];

/*
 * The fit's 1-sigma over the m points kept: the floor's flatness (the
 * envelope's blocks), two timestamps' cost, and the trend of the bulk of
 * the ticks' lateness against the floor (envelope_trend_ppb); not the
 * median lateness over the span, which periodic_fit adds: a delay that
 * stays as it is does not move a rate, only its change over the window
 * does. (The median is measured above the floor, so it is the ticks'
 * scatter, not kvm_pvm's constant ~1 ms: 125-150 us in a 20-run KVM soak,
 * 1 s windows; the trend's own noise is of that order over 60-75 ticks,
 * and a simulation of that scatter stopped the window at a median 208
 * ticks with either term.) What the median guarded against, the floor
 * drifting under TCG on a loaded host, shows as the bulk leaving the
 * floor: in 75 overlapping 60-tick pieces of a clean 3 s TCG window at
 * load 11, the envelope's error was at most 1.46 x the larger of this
 * term and the floor's (1.86 x the larger of the floor's and the
 * median's); over 75 and 100 ticks 1.24 and 1.50 x (1.84 and 1.82 x).
 */
static void jiffy_unc(struct present_fit *p, u64 m)
{
	/* Two timestamps' cost; stamped by the count, two of the widest
	 * half-brackets of the reads fitted too (where in its bracket each
	 * read fell is not known). */
	u64 stamps = mul_div_u64(2 * (p->f.stamp_cycles + p->read_half), 1000000000ull, p->f.span);

	p->floor_ppb = p->f.env.unc_ppb;
	p->trend_ppb = p->ambiguous ? 0 : envelope_trend_ppb(pres_k, pres_t, m, &p->f.env,
							     trend_scratch);
	p->f.unc_ppb = MAX(MAX(p->floor_ppb, stamps), p->trend_ppb);
}

static void present_fit(const u64 *t, const u64 *k, const u8 *away, u64 n,
			const struct gapset *g, u64 period, const struct rate_expect *x,
			struct present_fit *p)
{
	u64 m = 0, nf = 0, expect = x->uhz ? mul_div_u64(tsc_hz(), 1000000, x->uhz) : period;
	u64 wide = UINT64_MAX;

	p->f = (struct periodic_fit){ .status = -EINVAL };
	p->stretches = p->left_out = p->absences = p->disagree = 0;
	p->read_half = p->read_out = 0;
	/* Count reads wider than COUNT_WIDE_FACTOR x the median are left
	 * out (their stamps still number the steps: within a quarter period). */
	p->read_min = UINT64_MAX;
	for (u64 i = 0; i < n; i++)
		if (jif_h[i]) {
			halves[nf++] = jif_h[i];
			p->read_min = MIN(p->read_min, jif_h[i]);
		}
	if (nf) {
		wide = COUNT_WIDE_FACTOR * select_u64(halves, nf, nf / 2);
		nf = 0;
	} else {
		p->read_min = 0;
	}
	/* Each step judged once, for the counts here and the stretches
	 * below (under kvm_pvm, which emulates this code, every pass over
	 * the window's points costs milliseconds). */
	for (u64 i = 1; i < n; i++) {
		step_ok[i] = present_step(t, k, away, g, period, i);
		if ((away[i] & JIF_AWAY) || (g && gaps_total_in(g, t[i - 1], t[i]) >= period))
			p->absences++;
		else if (!step_ok[i])
			p->disagree++;
	}
	p->ambiguous = false;
	p->stretches_out = 0;
	p->tol_ppb = UINT64_MAX;
	for (u64 a = 0, b; a < n; a = b) {
		u64 first = a ? a + 1 : 0;

		for (b = a + 1; b < n && step_ok[b]; b++)
			;
		/* A stretch too short to hold its own ticks' numbering
		 * (fewer than STRETCH_MIN after the advance that ended
		 * the absence) is left out whole. */
		if (b < first + STRETCH_MIN || m + (b - first) > PERIODIC_MAX) {
			p->left_out += b - a;
			continue;
		}
		p->left_out += first - a;
		for (u64 i = first, last = first, joint = m > 0; i < b; i++) {
			u64 dk, per;

			/* Held up by a short absence just before: not on the
			 * floor, and no tick lost (the jiffies go on). */
			if ((away[i] & JIF_DELAYED) || jif_h[i] > wide) {
				p->read_out += jif_h[i] > wide;
				p->left_out++;
				continue;
			}
			p->read_half = MAX(p->read_half, jif_h[i]);
			if (!m) {
				dk = 0;
			} else if (joint) {
				/* Across the absence: by the rate so far once it
				 * spans at least the absence (its error then moves
				 * the count by less than two ticks' lateness), else
				 * by the expected one. */
				per = pres_t[m - 1] - pres_t[0] >= t[i] - pres_t[m - 1] ?
				      (pres_t[m - 1] - pres_t[0]) / pres_k[m - 1] : expect;
				dk = MAX((t[i] - pres_t[m - 1] + per / 2) / per, 1ull);
			} else {
				dk = k[i] - k[last];
			}
			pres_k[m] = m ? pres_k[m - 1] + dk : 0;
			pres_joint[m] = joint;
			pres_t[m++] = t[i];
			last = i;
			joint = false;
		}
		p->stretches++;
	}
	if (!refit(p, m, period))
		return;
	/* A stretch numbered a period off lies a period off the line. Each
	 * stretch is moved to the whole periods its floor (its least-late
	 * tick) lies off the fitted line, and fitted again, until none
	 * moves (at most RENUMBER_PASSES times). */
	for (int pass = 0; pass < RENUMBER_PASSES; pass++) {
		s64 per = (s64)((p->f.env.tb - p->f.env.ta) / (p->f.env.kb - p->f.env.ka));
		bool moved = false;

		stretch_floors(&p->f.env, m);
		for (u64 a = 0, b; a < m; a = b) {
			s64 fl = fl_at[a], sh;

			b = fl_end[a];
			sh = (fl + (fl < 0 ? -per / 2 : per / 2)) / per;
			/* Late against the line by sh periods: sh ticks on. */
			if (!sh || (a && (s64)(pres_k[a] - pres_k[a - 1]) + sh < 1) ||
			    (b < m && (s64)(pres_k[b] - pres_k[b - 1]) - sh < 1))
				continue;	/* in place, or it would cross a neighbour */
			for (u64 i = a; i < b; i++)
				pres_k[i] += (u64)sh;
			moved = true;
		}
		if (!moved)
			break;
		if (!refit(p, m, period))
			return;
	}
	/* A stretch numbered right has its floor on the line, but for its
	 * ticks' lateness; from a quarter period off, its numbering across
	 * the absence before it is not known: such stretches are left out
	 * (a stretch of ticks all held up together, as when the emulator's
	 * timers ran late throughout it) and the rest fitted again, if
	 * FIT_MIN_TICKS remain; if any still lies that far off, the rate is
	 * known only to a period over the span (as periodic_fit holds events
	 * numbered by time). */
	p->ambiguous = false;
	for (int pass = 0; pass < LEAVE_OUT_PASSES && !p->ambiguous; pass++) {
		u64 kept = 0, out = 0, gone = 0;

		/* Counted first: the arrays are compacted only when enough
		 * remain (else they must stay as the fit that is kept saw
		 * them). */
		stretch_floors(&p->f.env, m);
		for (u64 a = 0, b; a < m; a = b) {
			s64 fl = fl_at[a];

			b = fl_end[a];
			if ((u64)(fl < 0 ? -fl : fl) >= period / 4) {
				out += b - a;
				gone++;
			}
		}
		if (!out)
			break;
		if (m - out < FIT_MIN_TICKS) {
			p->ambiguous = true;
			break;
		}
		for (u64 a = 0, b; a < m; a = b) {
			s64 fl = fl_at[a];

			b = fl_end[a];
			if ((u64)(fl < 0 ? -fl : fl) >= period / 4)
				continue;
			for (u64 i = a; i < b; i++) {
				pres_k[kept] = pres_k[i];
				pres_t[kept] = pres_t[i];
				pres_joint[kept++] = pres_joint[i];
			}
		}
		/* Restored only in the arrays' kept part: m shrinks. */
		m = kept;
		pres_joint[0] = false;
		p->left_out += out;
		p->stretches -= gone;
		p->stretches_out += gone;
		if (!refit(p, m, period))
			return;
	}
	stretch_floors(&p->f.env, m);
	for (u64 a = 0, b; a < m; a = b) {
		s64 fl = fl_at[a];

		b = fl_end[a];
		p->ambiguous |= (u64)(fl < 0 ? -fl : fl) >= period / 4;
		floors[nf++] = fl > 0 ? (u64)fl : 0;
	}
	/*
	 * Stretches joined by time are numbered by their floors lying on
	 * the line. Where half of them lie a sixteenth of a period above it
	 * or more, their floors were not found (a few late ticks each), and
	 * a numbering tilted by some periods over the span fits as well: the
	 * rate is known to a period over the span. Under load (11-12) every
	 * window whose fitted points came out 853-31233 ppm off (12 of them,
	 * 2-8 s, TCG and KVM; those judged had 200-430 ppm stated) had that
	 * median at 358-1950 us (the median tick 0.6-2.8 ms above the line);
	 * a clean 3 s window's was 13 us.
	 */
	if (nf > 1 && select_u64(floors, nf, nf / 2) >= period / 16)
		p->ambiguous = true;
	jiffy_unc(p, m);
	if (p->ambiguous)
		p->f.unc_ppb = MAX(p->f.unc_ppb, mul_div_u64(period, 1000000000ull, p->f.span));
	p->tol_ppb = 3 * hypot_u64(p->f.unc_ppb, x->unc_ppb) + x->spec_ppb;
}

/* Polls jiffies under watch until TSC `end`; each change is recorded
 * with the interrupt's TSC stamp. */
static void jiffy_collect(struct clockevent *ce, const struct rate_expect *x,
			  struct jiffy_window *w, u64 end)
{
	u64 period = ns_to_tsc(tick_period_ns()), short_gap = period / STEAL_RECORD_DIV;
	u64 j, ts, prev = w->w.cpu.last, now, g0 = 0, g1 = 0, s0 = 0, s1 = 0;
	u64 st = 0, st_prev = 0, half = 0, start;
	bool steal = kvmsteal_read(&st_prev);

	/* Only a gap of a period or more can coalesce a tick (and end a
	 * stretch); a shorter one can only delay the tick after it, which
	 * is then left out alone (a tick delayed into the next period shows
	 * as jiffies that disagree with their time). */
	while ((now = watch_poll(&w->w)) < end) {
		test_poll(TEST_POLL_LOOP);	/* tests/test.h: an RTC edge caught in passing */
		if (now - prev >= period) {
			g0 = g0 ? g0 : prev;
			g1 = now;
		} else if (now - prev >= short_gap) {
			s0 = s0 ? s0 : prev;
			s1 = now;
		}
		prev = now;
		snapshot(ce, &j, &ts);
		/* The count is read only when jiffies moved (a device read:
		 * an exit under KVM). */
		start = ts;
		if (w->by_count && j != jif_k[w->n - 1])
			snapshot_count(ce, x, &j, &ts, &start, &half);
		if (steal && !kvmsteal_read(&st))
			st = st_prev;
		if (j != jif_k[w->n - 1] && w->n < PERIODIC_MAX) {
			if (st > st_prev) {
				w->stolen++;
				w->stolen_ns += st - st_prev;
			}
			/* A tick taken inside the gaps since the last advance,
			 * or soon after them (a quarter period after a long
			 * one; a thirty-second after a short one: a tick held
			 * up is taken as the vCPU resumes, and at 100 Hz most
			 * ticks came within 2.5 ms of some short gap), may
			 * have been held up by them; one taken later came in
			 * presence. */
			jif_k[w->n] = j;
			jif_away[w->n] = g1 && ts >= g0 && ts <= g1 + period / 4 ? JIF_AWAY :
					 s1 && ts >= s0 && ts <= s1 + short_gap / 4 ? JIF_DELAYED : 0;
			/* Stamped by the count, a tick the host held up keeps
			 * its period's start: only one held a period or more
			 * (coalesced with the next) is out of place, and its
			 * jiffies then disagree with its time. One whose read
			 * was too wide keeps its arrival and is left out. */
			if (w->by_count && half) {
				jif_away[w->n] &= JIF_AWAY;	/* counted, not a break */
			} else if (w->by_count) {
				jif_away[w->n] |= JIF_DELAYED;
				w->count_wide++;
			}
			jif_h[w->n] = half;
			jif_t[w->n++] = start;
			g0 = g1 = s0 = s1 = 0;
		}
		st_prev = st;
	}
}

/*
 * The window is lengthened each time by as much as the uncertainty says it
 * lacks (it falls about as the span grows), at least 25 ticks.
 */
/* The window's last fit, over all its advances with this vCPU's own gaps:
 * jiffy_fit's own when the emulator's gaps cannot change it (below). */
static struct present_fit last_fit;
static const struct jiffy_window *last_w;
static u64 last_n;

void jiffy_window(struct clockevent *ce, u64 min_ns, u64 max_ns, u64 target_ppb,
		  const struct rate_expect *x, struct jiffy_window *w)
{
	u64 period = ns_to_tsc(tick_period_ns()), e0 = ce->events, end, due, start, spare;
	struct present_fit *p = &last_fit;

	w->j0 = w->t0 = w->j1 = w->t1 = w->n = w->excused = w->extended = 0;
	w->stolen = w->stolen_ns = 0;
	w->lost = 0;
	w->by_count = jiffy_by_count(ce);
	w->count_wide = 0;
	watch_begin(&w->w, period, __builtin_strcmp(ce->name, "rtc"));
	/* The window starts at a tick that came while watched: the last one
	 * before may be from long ago (or from the device's earlier use), if
	 * the host kept us away, and that span holds absences the watch did
	 * not see. Without one in a whole window's presence, the window is
	 * spoiled (no tick, j1 == j0). */
	end = rdtsc_ordered() + ns_to_tsc(min_ns);
	while (ce->events == e0 && watch_poll(&w->w) < end + w->w.cpu.cycles)
		cpu_relax();
	snapshot(ce, &w->j0, &w->t0);
	if (ce->events == e0)
		w->t0 = w->w.cpu.last;	/* no tick: j1 == j0, and no span before the watch */
	jif_k[0] = w->j0;
	jif_away[0] = 0;
	jif_t[0] = w->t0;
	jif_h[0] = 0;
	if (w->by_count && ce->events != e0) {
		u64 j, arrival;

		snapshot_count(ce, x, &j, &arrival, &jif_t[0], &jif_h[0]);
		if (j != w->j0 || !jif_h[0]) {
			/* A tick came in between, or the read was too wide:
			 * the first point by arrival, left out. */
			snapshot(ce, &w->j0, &w->t0);
			jif_k[0] = w->j0;
			jif_t[0] = w->t0;
			jif_h[0] = 0;
			jif_away[0] = JIF_DELAYED;
		}
	}
	w->n = 1;
	start = rdtsc_ordered();
	/* Long enough for the points the fit stops with, and a period's
	 * more for the window's ends: one fit, not two. */
	spare = w->by_count ? FIT_SPARE_COUNT : FIT_SPARE;
	end = start + ns_to_tsc(MAX(min_ns, (FIT_MIN_TICKS + spare + 1) * tick_period_ns()));
	for (;;) {
		u64 have, want, fit_end;

		jiffy_collect(ce, x, w, end);
		/* The decision uses this vCPU's own gaps (the emulator's are
		 * worked out at the end). */
		present_fit(jif_t, jif_k, jif_away, w->n, NULL, period, x, p);
		have = end - w->w.cpu.start - MIN(w->w.cpu.cycles, end - w->w.cpu.start);
		/* Bounded by presence, and by as long again of absence. The
		 * fit must hold FIT_SPARE points more than FIT_MIN_TICKS: the
		 * emulator's absences, worked out at the end, may leave a few
		 * out (a default TCG run at load 1 fitted 50 here and 49 at
		 * the end, twice: tick.periodic unjudged). */
		if ((!p->f.status && p->f.n >= FIT_MIN_TICKS + spare &&
		     p->tol_ppb <= target_ppb) || have >= ns_to_tsc(max_ns) ||
		    end - start >= ns_to_tsc(2 * max_ns) || w->n >= PERIODIC_MAX)
			break;
		/* The fit's uncertainty falls about as the span grows: ask
		 * for the span it needs, a quarter more, at least 25 ticks;
		 * where only the spare points are missing, for those. */
		if (!p->f.status && p->tol_ppb <= target_ppb) {
			want = have + (FIT_MIN_TICKS + spare + 2 - p->f.n) * period;
		} else if (p->f.status && p->f.n && p->f.n < FIT_MIN_TICKS) {
			/* Short of points only: as much longer as the share
			 * of advances fitted so far says they need, at most
			 * twice as long (a default TCG run doubled 200 ms for
			 * a fit one or two points short). */
			want = MIN(2 * have, mul_div_u64(have, FIT_MIN_TICKS + spare + 2, p->f.n));
		} else {
			want = p->f.status ? 2 * have : mul_div_u64(have, p->tol_ppb, target_ppb);
			want = MAX(want + want / 4, have + 25 * period);
		}
		want = MIN(want, ns_to_tsc(max_ns));
		fit_end = rdtsc_ordered();
		/* The fit's own time is ours, not an absence. */
		w->w.cpu.last = fit_end;
		end = MIN(fit_end + (want - have), start + ns_to_tsc(2 * max_ns));
		w->extended++;
	}
	last_w = w;
	last_n = w->n;
	snapshot(ce, &w->j1, &w->t1);
	watch_end(&w->w);
	w->window_ns = tsc_to_ns(w->w.cpu.last - start);
	/*
	 * Due is judged to the window's end, not only to the last tick seen:
	 * ticks that stop coming (or a vCPU away) after the last one are due
	 * all the same. Counted only to t1, a window whose second tick was
	 * its last showed 0 lost and 0 excused and was judged on 2 advances
	 * (tcg-smp2-all "only 2 jiffy advances in 100 ms" with no absence
	 * seen: the absence lay after t1). The tick due in the last period
	 * may still be on its way (the slack's one jiffy covers the ends).
	 */
	due = (tsc_to_ns(w->t1 - w->t0) + tick_period_ns() / 2) / tick_period_ns();
	if (w->w.cpu.last > w->t0 + period)
		due = MAX(due, (w->w.cpu.last - w->t0) / period - 1);
	w->lost = (s64)due - (s64)(w->j1 - w->j0);
	/* The periodic device's ticks coalesce while nothing runs (and a
	 * stretch between two absences shorter than the gaps the watch keeps
	 * is not known to be presence). */
	gaps_bridge(&w->w.all, period / STEAL_RECORD_DIV);
	w->excused = gaps_coalesced_any(&w->w.all, period, w->t0, MAX(w->t1, w->w.cpu.last));
}

/* One jiffy of slack for the window's ends, and the ticks excused. */
s64 jiffy_slack(const struct jiffy_window *w)
{
	return 1 + (s64)w->excused;
}

/* The host kept this vCPU (or the emulator) away for most of the window:
 * what it counted there says little about the tick (its excuse, the whole
 * periods of each stretch away, can be one short for each stretch that
 * began while a tick was still on its way: 22 lost against 20 excused in
 * 34 stretches, 876 ms away in 1 s). */
bool mostly_away(const struct jiffy_window *w)
{
	return gaps_total_in(&w->w.all, w->w.cpu.start, w->w.cpu.last) >
	       (w->w.cpu.last - w->w.cpu.start) / 2;
}

void jiffy_fit(struct test_env *env, const struct jiffy_window *w, const struct rate_expect *x,
	       struct present_fit *p)
{
	u64 period = ns_to_tsc(tick_period_ns());

	/* The emulator's gaps end a step only where they add up to a period
	 * inside it: with less than that in all, the fit is the window's
	 * last one, over the same stamps (unless plant_rate= stretches
	 * them), and is not worked out again (under kvm_pvm, which emulates
	 * this code, a fit took 12-17 ms). */
	if (w == last_w && w->n == last_n && !cmdline_get(env->cmd, "plant_rate") &&
	    gaps_total(&w->w.emulator) < period) {
		*p = last_fit;
		return;
	}
	plant_rate(env, jif_t, w->n);
	present_fit(jif_t, jif_k, jif_away, w->n, &w->w.emulator, period, x, p);
}

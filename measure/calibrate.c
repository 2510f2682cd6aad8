/* Calibrates the TSC against every other clocksource in one window and
 * sets the ruler to the best result. It must not judge the result (tests/
 * do), nor register or program a device. */
#include "calibrate.h"
#include "arch-x86/cpu.h"
#include "arch-x86/delay.h"
#include "drivers/tsc.h"
#include "lib/math.h"
#include "lib/stats.h"
#include "lib/str.h"

struct sample {
	u64 x;		/* TSC at the middle of the bracket */
	u64 y;		/* extended reference count */
	u32 w;		/* bracket width, cycles */
};

static struct sample samples[CS_MAX][CAL_MAX_SAMPLES];

/* Samples used: brackets within 2x the narrowest. For an event source
 * the width is the polling gap the event fell in, a whole polling round
 * whose length varies with the reads in it; so within 2x the median
 * round instead: an event seen after a longer gap (the host kept us
 * away, or an interrupt held the round up) is known only to within it. */
static bool narrow(const struct sample *s, u64 bound)
{
	return s->w <= 2 * bound + 1;
}

static u64 width_bound(const struct cal_result *r, const struct sample *s, u64 n, u64 minw)
{
	static u64 w[CAL_MAX_SAMPLES];

	if (!(r->cs->flags & CS_EVENTS) || !n)
		return minw;
	for (u64 i = 0; i < n; i++)
		w[i] = s[i].w;
	return select_u64(w, n, n / 2);
}

struct fit {
	u64 n[2], sx[2], sy[2];	/* per half: count, sums relative to x0, y0 */
	u64 x0, y0;
};

/* Two-group fit over the samples whose index is in use[0..m). */
static bool fit(const struct sample *s, const u32 *use, u64 m, u64 ref_hz, struct fit *f,
		u64 *tsc_hz)
{
	u64 dX, dY;

	*f = (struct fit){ .x0 = s[use[0]].x, .y0 = s[use[0]].y };
	for (u64 k = 0; k < m; k++) {
		int g = k < m / 2 ? 0 : 1;

		f->n[g]++;
		f->sx[g] += s[use[k]].x - f->x0;
		f->sy[g] += s[use[k]].y - f->y0;
	}
	dX = f->sx[1] * f->n[0] - f->sx[0] * f->n[1];
	dY = f->sy[1] * f->n[0] - f->sy[0] * f->n[1];
	if ((s64)dX <= 0 || (s64)dY <= 0)
		return false;
	*tsc_hz = mul_div_u64(dX, ref_hz, dY);
	return true;
}

/* Residual of sample i from the fitted line through the overall means, in
 * cycles. Computed times n so the means stay exact (a slow reference's
 * mean count is far from an integer). */
static s64 residual(const struct sample *si, const struct fit *f, u64 tsc_hz, u64 ref_hz)
{
	u64 n = f->n[0] + f->n[1];
	s64 dy = (s64)(n * (si->y - f->y0)) - (s64)(f->sy[0] + f->sy[1]);
	s64 res = (s64)(n * (si->x - f->x0)) - (s64)(f->sx[0] + f->sx[1]) -
		  mul_div_s64(dy, tsc_hz, ref_hz);

	res /= (s64)n;
	return res > 2000000000 || res < -2000000000 ? 2000000000 : res;
}

static u32 use[CAL_MAX_SAMPLES], sub[CAL_MAX_SAMPLES];

#define JK_BLOCKS	8

/* Block-jackknife standard error of the rate, in ppb of all (the rate
 * from all of use[0..m)); 0 when there are too few samples. */
static u64 jackknife_ppb(const struct sample *s, u64 m, u64 ref_hz, u64 all)
{
	s64 est[JK_BLOCKS], mean = 0;
	u64 ssq = 0;
	struct fit f;

	if (m < JK_BLOCKS * CAL_MIN_SAMPLES)
		return 0;
	for (u64 b = 0; b < JK_BLOCKS; b++) {
		u64 lo = m * b / JK_BLOCKS, hi = m * (b + 1) / JK_BLOCKS, n = 0, hz;

		for (u64 k = 0; k < m; k++)
			if (k < lo || k >= hi)
				sub[n++] = use[k];
		if (!fit(s, sub, n, ref_hz, &f, &hz))
			return 0;
		est[b] = ppb_diff(hz, all);
		mean += est[b];
	}
	mean /= JK_BLOCKS;
	for (int b = 0; b < JK_BLOCKS; b++)
		ssq += (u64)((est[b] - mean) * (est[b] - mean));
	return isqrt_u64(ssq * (JK_BLOCKS - 1) / JK_BLOCKS);
}
static u64 absres[CAL_MAX_SAMPLES];

static void estimate(struct cal_result *r, const struct sample *s, u64 n)
{
	u64 minw = UINT64_MAX, maxw = 0, m = 0, ref_hz = r->cs->freq_hz, limit, ssq = 0;
	u64 dX, k, sigma, mad, bound;
	struct fit f;

	r->status = -EIO;
	for (u64 i = 0; i < n; i++)
		minw = MIN(minw, (u64)s[i].w);
	bound = width_bound(r, s, n, minw);
	for (u64 i = 0; i < n; i++)
		if (narrow(&s[i], bound))
			use[m++] = (u32)i;
	r->wide = n - m;
	r->min_width = minw;
	if (m < CAL_MIN_SAMPLES || !fit(s, use, m, ref_hz, &f, &r->tsc_hz))
		return;
	/* Robust refit: drop samples further from the line than 5 robust
	 * standard deviations (1.4826 x the median absolute residual), such
	 * as a read delayed by an unrelated exit or a late timer. */
	for (u64 k2 = 0; k2 < m; k2++) {
		s64 res = residual(&s[use[k2]], &f, r->tsc_hz, ref_hz);

		absres[k2] = (u64)(res < 0 ? -res : res);
	}
	{
		static u64 sorted[CAL_MAX_SAMPLES];
		u64 kept = 0;

		memcpy(sorted, absres, m * sizeof(u64));
		mad = select_u64(sorted, m, m / 2);
		limit = MAX(mad * 74130 / 10000, 1ull);	/* 5 x 1.4826 */
		for (u64 k2 = 0; k2 < m; k2++)
			if (absres[k2] <= limit)
				use[kept++] = use[k2];
		r->rejected = m - kept;
		m = kept;
	}
	if (m < CAL_MIN_SAMPLES || !fit(s, use, m, ref_hz, &f, &r->tsc_hz))
		return;
	for (u64 k2 = 0; k2 < m; k2++) {
		s64 res = residual(&s[use[k2]], &f, r->tsc_hz, ref_hz);

		ssq += (u64)(res * res) / 16;
		maxw = MAX(maxw, (u64)s[use[k2]].w);
	}
	r->kept = m;
	r->max_width = maxw;
	r->span_cycles = s[use[m - 1]].x - s[use[0]].x;
	sigma = 4 * isqrt_u64(ssq / (m - 2));
	/* sd of the difference of the group means, sigma*sqrt(1/n1 + 1/n2),
	 * relative to that difference, dX / (n1 n2). */
	dX = f.sx[1] * f.n[0] - f.sx[0] * f.n[1];
	k = isqrt_u64(m * f.n[0] * f.n[1]);
	r->unc_ppb = mul_div_u64(sigma * k, 1000000000ull, dX);
	/* That assumes independent samples; exits and timer delays come in
	 * bursts. A delete-a-block jackknife over JK_BLOCKS contiguous blocks
	 * sees noise correlated over shorter spans than a block; the larger
	 * of the two is stated. */
	r->unc_ppb = MAX(r->unc_ppb, jackknife_ppb(s, m, ref_hz, r->tsc_hz));
	r->status = 0;
}

/* What the round-robin keeps for each reference between polls. */
struct ref_state {
	struct cs_extender ext;
	u64 count;		/* samples taken */
	u64 next;		/* counters: TSC when the next sample is due */
	u64 prev_mid, prev_y;	/* the previous poll: its time and count */
	u64 read_mid, read_half;	/* the previous read's time and half its
					 * bracket (TSC) */
	u64 ev_mid, ev_y;	/* events: the last one's time and number */
};

/*
 * One poll of cs: the read bracketed by two TSC reads, kept as a sample
 * when one is due (counters at a steady pace, event sources when an event
 * was seen). Returns the TSC after the read.
 */
static u64 poll_one(struct clocksource *cs, struct ref_state *st, struct sample *samples,
		    u64 pace)
{
	u64 a = rdtsc_ordered(), raw = cs->read(cs), b = rdtsc_ordered(), mid = a + (b - a) / 2;
	/* The TSC (by the early ruler) says how far the counter went since
	 * the last read: a narrow counter then keeps its wraps even when the
	 * host kept us away for longer than half of one, inside a read or
	 * between two. */
	u64 elapsed = mul_div_u64(mid - st->read_mid, cs->freq_hz, tsc_hz());
	/* The slack: the two half-brackets, and as much again as elapsed
	 * itself, since the ruler here is only the early estimate (a short
	 * PIT window at boot, itself open to the host's absences). */
	u64 y = cs_extend_hint(&st->ext, cs, raw, elapsed, elapsed +
			       mul_div_u64((b - a) / 2 + st->read_half, cs->freq_hz, tsc_hz()));

	st->read_mid = mid;
	st->read_half = (b - a) / 2;
	if (st->count == CAL_MAX_SAMPLES)
		return b;
	if (cs->flags & CS_EVENTS) {
		/* An event happened between the previous poll and this one:
		 * its time is known only that well. A flag is not a counter,
		 * so periods that passed unseen (a slow polling round) are
		 * counted by the ruler: whole periods since the last event. */
		if (y != st->prev_y) {
			u64 t = st->prev_mid + (mid - st->prev_mid) / 2;
			u64 period = tsc_hz() / cs->freq_hz;

			st->ev_y += st->ev_mid && period ?
				MAX((t - st->ev_mid + period / 2) / period, 1ull) : 1;
			st->ev_mid = t;
			samples[st->count++] = (struct sample){ t, st->ev_y,
				(u32)MIN(mid - st->prev_mid, 0xFFFFFFFFull) };
		}
		st->prev_y = y;
		st->prev_mid = mid;
	} else if (a >= st->next) {
		samples[st->count++] = (struct sample){ mid, y, (u32)MIN(b - a, 0xFFFFFFFFull) };
		st->next += pace;
	}
	return b;
}

int calibrate_tsc(struct clocksource *const *refs, int n, u64 window_ns, struct cal_result *out)
{
	struct ref_state st[CS_MAX];
	u64 start, end, pace;
	int good = 0, best;

	if (n > CS_MAX)
		n = CS_MAX;
	for (int i = 0; i < n; i++) {
		out[i] = (struct cal_result){ .cs = refs[i], .status = -EIO };
		cs_extend_start(&st[i].ext, refs[i]->read(refs[i]));
		st[i].count = 0;
		st[i].prev_y = 0;
		st[i].prev_mid = st[i].read_mid = rdtsc_ordered();
		st[i].read_half = 0;
		st[i].ev_mid = 0;
		st[i].ev_y = 0;
	}
	start = rdtsc_ordered();
	end = start + ns_to_tsc(window_ns);
	pace = (end - start) / CAL_MAX_SAMPLES + 1;
	for (int i = 0; i < n; i++)
		st[i].next = start;
	for (u64 now = start; now < end;)
		for (int i = 0; i < n; i++)
			now = poll_one(refs[i], &st[i], samples[i], pace);
	for (int i = 0; i < n; i++) {
		out[i].samples = st[i].count;
		out[i].backwards = st[i].ext.backwards;
		out[i].wraps = st[i].ext.wraps;
		out[i].wraps_by_tsc = st[i].ext.missed;
		if (!(refs[i]->flags & CS_EVENTS)) {
			estimate(&out[i], samples[i], st[i].count);
			good += out[i].status == 0;
		}
	}
	/* Event sources last: counting periods between polls by the early
	 * ruler goes wrong for good when one event is seen (or raised) late
	 * by half a period, and every later count is then off by one. So
	 * each event's period number is recounted from its time since the
	 * first event, by the TSC rate the counters just gave: a late event
	 * is then one outlier, which the robust refit drops. */
	best = calibrate_choose(out, n);
	for (int i = 0; i < n; i++) {
		struct sample *s = samples[i];

		if (!(refs[i]->flags & CS_EVENTS))
			continue;
		if (best >= 0 && st[i].count)
			for (u64 k = 0; k < st[i].count; k++)
				s[k].y = s[0].y + mul_div_u64(s[k].x - s[0].x + out[best].tsc_hz /
					refs[i]->freq_hz / 2, refs[i]->freq_hz, out[best].tsc_hz);
		estimate(&out[i], s, st[i].count);
		good += out[i].status == 0;
	}
	return good;
}

int calibrate_choose(const struct cal_result *r, int n)
{
	int best = -1;

	for (int i = 0; i < n; i++) {
		if (r[i].status || (r[i].cs->flags & CS_TSC_BASED))
			continue;
		if (best < 0 || r[i].unc_ppb < r[best].unc_ppb)
			best = i;
	}
	return best;
}

static struct cal_run run;

void calibrate_boot(u64 window_ns)
{
	struct clocksource *refs[CS_MAX];
	int n = 0;

	for (int i = 0; i < clocksource_count(); i++)
		if (strcmp(clocksource_get(i)->name, "tsc"))
			refs[n++] = clocksource_get(i);
	run.early_hz = tsc_hz();
	run.early_source = tsc_hz_source();
	run.window_ns = window_ns;
	run.n = n;
	calibrate_tsc(refs, n, window_ns, run.r);
	run.chosen = calibrate_choose(run.r, n);
	if (run.chosen >= 0)
		tsc_set_hz(run.r[run.chosen].tsc_hz, run.r[run.chosen].cs->name);
}

const struct cal_run *calibrate_last(void)
{
	return &run;
}

/* The calibration's rate fit and its uncertainty (see calfit.h). It must
 * stay pure: no hardware, no ruler, nothing the host tests cannot link. */
#include "calfit.h"
#include "lib/math.h"
#include "lib/offload.h"
#include "lib/stats.h"
#include "lib/str.h"

/* Residuals are clamped here, in cycles (also what a sample counted as
 * far off contributes to the scatter). */
#define RES_CLAMP	2000000000
#define JK_BLOCKS	8
/* Jackknife estimates are clamped here, in ppb (a factor of 5.8e8 either
 * way), so that their sum and squared spread fit their types. */
#define JK_CLAMP	(1ll << 59)

/* Samples used: brackets within 2x the narrowest. Event samples are all
 * kept: their width is the polling gap, known and already small. */
static bool narrow(const struct cal_result *r, const struct cal_sample *s, u64 minw)
{
	return (r->cs->flags & CS_EVENTS) || s->w <= 2 * minw + 1;
}

struct fit {
	u64 n[2];		/* per half: count */
	u128 sx[2], sy[2];	/* per half: sums relative to x0, y0 */
	u128 dx, dy;		/* n0 n1 (mean of half 1 - mean of half 0) */
	u64 x0, y0;
};

/* The rate from the two halves' sums in f (false when they do not rise). */
static bool fit_finish(struct fit *f, u64 ref_hz, u64 *tsc_hz)
{
	u128 x1, x0, y1, y0;

	x1 = f->sx[1] * f->n[0];
	x0 = f->sx[0] * f->n[1];
	y1 = f->sy[1] * f->n[0];
	y0 = f->sy[0] * f->n[1];
	if (x1 <= x0 || y1 <= y0)
		return false;
	f->dx = x1 - x0;
	f->dy = y1 - y0;
	*tsc_hz = mul_div_u128(f->dx, ref_hz, f->dy);
	return true;
}

/* Two-group fit over the samples whose index is in use[0..m). */
static bool fit(const struct cal_sample *s, const u32 *use, u64 m, u64 ref_hz, struct fit *f,
		u64 *tsc_hz)
{
	*f = (struct fit){ .x0 = s[use[0]].x, .y0 = s[use[0]].y };
	for (u64 k = 0; k < m; k++) {
		int g = k < m / 2 ? 0 : 1;

		f->n[g]++;
		f->sx[g] += s[use[k]].x - f->x0;
		f->sy[g] += s[use[k]].y - f->y0;
	}
	return fit_finish(f, ref_hz, tsc_hz);
}

/* Residual of sample i from the fitted line through the overall means, in
 * cycles, clamped to +-RES_CLAMP. Computed times n so the means stay
 * exact (a slow reference's mean count is far from an integer). */
static s64 residual(const struct cal_sample *si, const struct fit *f, u64 tsc_hz, u64 ref_hz)
{
	u64 n = f->n[0] + f->n[1];
	s128 dx = (s128)((u128)n * (si->x - f->x0)) - (s128)(f->sx[0] + f->sx[1]);
	s128 dy = (s128)((u128)n * (si->y - f->y0)) - (s128)(f->sy[0] + f->sy[1]);
	s128 pred = mul_div_u128(dy < 0 ? (u128)-dy : (u128)dy, tsc_hz, ref_hz);
	s128 res = dx - (dy < 0 ? -pred : pred), lim = (s128)n * RES_CLAMP;

	if (res >= lim)
		return RES_CLAMP;
	if (res <= -lim)
		return -RES_CLAMP;
	return (s64)res / (s64)n;
}

static u32 use[CAL_MAX_SAMPLES] NOINIT, sub[CAL_MAX_SAMPLES] NOINIT;
static u64 absres[CAL_MAX_SAMPLES] NOINIT, sorted[CAL_MAX_SAMPLES] NOINIT;
/* Running sums of x and y over use[], relative to its first sample. */
static u128 psx[CAL_MAX_SAMPLES + 1] NOINIT, psy[CAL_MAX_SAMPLES + 1] NOINIT;

/*
 * Fills the prefix sums psx, psy over use[0..m); false when x or y ever
 * decreases along use[] (fit()'s u64 differences would then wrap, which
 * sums of differences cannot reproduce).
 */
static bool prefix_sums(const struct cal_sample *s, u64 m)
{
	u64 x0 = s[use[0]].x, y0 = s[use[0]].y;

	psx[0] = psy[0] = 0;
	for (u64 k = 0; k < m; k++) {
		const struct cal_sample *p = &s[use[k]];

		if (p->x < x0 || p->y < y0 || (k && (p->x < s[use[k - 1]].x ||
						     p->y < s[use[k - 1]].y)))
			return false;
		psx[k + 1] = psx[k] + (p->x - x0);
		psy[k + 1] = psy[k] + (p->y - y0);
	}
	return true;
}

/* Adds positions [a, b) of use[] to half g of f, relative to f's x0, y0
 * (no sample of the range below them: prefix_sums checked). */
static void add_range(struct fit *f, int g, u64 a, u64 b, u64 x0, u64 y0)
{
	if (b <= a)
		return;
	f->n[g] += b - a;
	f->sx[g] += psx[b] - psx[a] - (u128)(b - a) * (f->x0 - x0);
	f->sy[g] += psy[b] - psy[a] - (u128)(b - a) * (f->y0 - y0);
}

/*
 * fit() over use[] without positions [lo, hi), from the prefix sums: the
 * same sums fit() forms (integers, exact), in constant time instead of a
 * pass over every sample, which counts where the guest is interpreted.
 */
static bool fit_without(const struct cal_sample *s, u64 m, u64 lo, u64 hi, u64 ref_hz,
			struct fit *f, u64 *tsc_hz)
{
	u64 n = m - (hi - lo), half = n / 2, first = lo ? 0 : hi;
	u64 x0 = s[use[0]].x, y0 = s[use[0]].y;

	*f = (struct fit){ .x0 = s[use[first]].x, .y0 = s[use[first]].y };
	if (half <= lo) {
		add_range(f, 0, 0, half, x0, y0);
		add_range(f, 1, half, lo, x0, y0);
		add_range(f, 1, hi, m, x0, y0);
	} else {
		add_range(f, 0, 0, lo, x0, y0);
		add_range(f, 0, hi, hi + half - lo, x0, y0);
		add_range(f, 1, hi + half - lo, m, x0, y0);
	}
	return fit_finish(f, ref_hz, tsc_hz);
}

/* Block-jackknife standard error of the rate, in ppb of all (the rate
 * from all of use[0..m)); 0 when there are too few samples. */
static u64 jackknife_ppb(const struct cal_sample *s, u64 m, u64 ref_hz, u64 all)
{
	s64 est[JK_BLOCKS], mean = 0;
	u128 ssq = 0;
	struct fit f;
	bool sums;

	if (m < JK_BLOCKS * CAL_MIN_SAMPLES)
		return 0;
	sums = prefix_sums(s, m);
	for (u64 b = 0; b < JK_BLOCKS; b++) {
		u64 lo = m * b / JK_BLOCKS, hi = m * (b + 1) / JK_BLOCKS, n = 0, hz;
		bool ok;

		if (sums) {
			ok = fit_without(s, m, lo, hi, ref_hz, &f, &hz);
		} else {
			for (u64 k = 0; k < m; k++)
				if (k < lo || k >= hi)
					sub[n++] = use[k];
			ok = fit(s, sub, n, ref_hz, &f, &hz);
		}
		if (!ok)
			return 0;
		est[b] = MAX(MIN(ppb_diff(hz, all), JK_CLAMP), -JK_CLAMP);
		mean += est[b];
	}
	mean /= JK_BLOCKS;
	for (int b = 0; b < JK_BLOCKS; b++) {
		u64 d = est[b] >= mean ? (u64)(est[b] - mean) : (u64)(mean - est[b]);

		ssq += (u128)d * d;
	}
	/* (JK_BLOCKS - 1) / JK_BLOCKS of the sum, by a shift: a 128-bit
	 * division would need libgcc. */
	_Static_assert(JK_BLOCKS == 8, "the shift below divides by 8");
	return isqrt_u128(ssq - (ssq >> 3));
}

/* Drops from use[0..*m) the samples further from the line than 5 robust
 * standard deviations (1.4826 x the median absolute residual), such as a
 * read delayed by an unrelated exit or a late timer; returns how many. */
static u64 drop_outliers(const struct cal_sample *s, u64 *m, const struct fit *f, u64 tsc_hz,
			 u64 ref_hz)
{
	u64 kept = 0, mad, limit, n = *m;

	for (u64 k = 0; k < n; k++) {
		s64 res = residual(&s[use[k]], f, tsc_hz, ref_hz);

		absres[k] = (u64)(res < 0 ? -res : res);
	}
	memcpy(sorted, absres, n * sizeof(u64));
	mad = select_u64(sorted, n, n / 2);
	limit = MAX(mad * 74130 / 10000, 1ull);	/* 5 x 1.4826 */
	for (u64 k = 0; k < n; k++)
		if (absres[k] <= limit)
			use[kept++] = use[k];
	*m = kept;
	return n - kept;
}

/*
 * The fit over s[0..n): the narrow samples, fitted, outliers dropped,
 * fitted again. Sets use[0..*m), *f, and r's tsc_hz, wide, min_width and
 * rejected; false when too few samples are left or they do not rise.
 */
static bool fit_kept(struct cal_result *r, const struct cal_sample *s, u64 n, struct fit *f,
		     u64 *mp)
{
	u64 minw = UINT64_MAX, m = 0, ref_hz = r->cs->freq_hz;

	for (u64 i = 0; i < n; i++)
		minw = MIN(minw, (u64)s[i].w);
	for (u64 i = 0; i < n; i++)
		if (narrow(r, &s[i], minw))
			use[m++] = (u32)i;
	r->wide = n - m;
	r->min_width = minw;
	if (m < CAL_MIN_SAMPLES || !fit(s, use, m, ref_hz, f, &r->tsc_hz))
		return false;
	r->rejected = drop_outliers(s, &m, f, r->tsc_hz, ref_hz);
	*mp = m;
	return m >= CAL_MIN_SAMPLES && fit(s, use, m, ref_hz, f, &r->tsc_hz);
}

/* |v| of a signed 128-bit value, as unsigned. */
static u128 abs_s128(s128 v)
{
	return v < 0 ? -(u128)v : (u128)v;
}

#define RW_CLAMP	((s128)1 << 52)

/*
 * The least-squares slope of use[0..m)'s residuals from f against their
 * bracket widths, with the widths' own trend over the window taken out
 * first (by the same two-group line, so that the slope and the rate come
 * out together in one step: Frisch-Waugh-Lovell), in 1/CAL_WIDTH_ONE,
 * saturating at +-CAL_WIDTH_ONE; in *se its standard error (saturating at
 * CAL_WIDTH_ONE) and in *dw the halves' width difference in fit's units
 * (n0 n1 x the difference of their means). 0, with *se 0, when the widths
 * do not vary about their trend. Widths are taken times m (exact in
 * integers; |w m - sum w| < 2^44) and clamped to +-RW_CLAMP, so that the
 * sums of products stay below 2^117.
 */
static s64 width_slope(const struct cal_sample *s, u64 m, const struct fit *f, u64 tsc_hz,
		       u64 ref_hz, u64 *se, s64 *dw)
{
	u64 sw = 0, swh[2] = { 0, 0 }, g, dwa;
	s128 srw = 0, d;
	u128 sww = 0, ssq = 0, root, sy = f->sy[0] + f->sy[1];

	*se = 0;
	for (u64 k = 0; k < m; k++) {
		sw += s[use[k]].w;
		swh[k < m / 2 ? 0 : 1] += s[use[k]].w;
	}
	d = (s128)((u128)swh[1] * f->n[0]) - (s128)((u128)swh[0] * f->n[1]);
	*dw = (s64)d;
	dwa = (u64)abs_s128(d);
	for (u64 k = 0; k < m; k++) {
		const struct cal_sample *p = &s[use[k]];
		s128 dy = (s128)((u128)m * (p->y - f->y0)) - (s128)sy;
		s128 trend = (s128)mul_div_u128(abs_s128(dy), dwa, f->dy);
		s128 rw = (s128)p->w * (s128)m - (s128)sw - ((dy < 0) != (d < 0) ? -trend : trend);
		s64 res = residual(p, f, tsc_hz, ref_hz);

		rw = MAX(MIN(rw, RW_CLAMP), -RW_CLAMP);
		srw += rw * res;
		sww += (u128)(rw * rw);
		ssq += (u128)((s128)res * res);
	}
	root = isqrt_u128(sww);
	if (!root || m < 4)
		return 0;
	/* res ~ g rw / m: g = m sum(res rw) / sum(rw^2). */
	g = MIN(mul_div_u128(abs_s128(srw) * m, CAL_WIDTH_ONE, sww), (u64)CAL_WIDTH_ONE);
	/* se(g) = sigma m / sqrt(sum rw^2), sigma from the residuals (the
	 * last call's, after the correction, states it). */
	*se = MIN(mul_div_u128((u128)isqrt_u128(ssq) * m, CAL_WIDTH_ONE, (u128)root *
			       isqrt_u64(m - 3)), (u64)CAL_WIDTH_ONE);
	return srw < 0 ? -(s64)g : (s64)g;
}

static struct cal_sample adj[CAL_MAX_SAMPLES] NOINIT;

/* adj[0..n) = s[0..n) with each x moved by beta (1/CAL_WIDTH_ONE) of its
 * width; false when a moved x would leave the u64 range. Order is kept:
 * consecutive middles lie at least half of both widths apart, and
 * |beta| <= 1/2. */
static bool move_by_width(const struct cal_sample *s, u64 n, s64 beta)
{
	u64 b = (u64)(beta < 0 ? -beta : beta);

	for (u64 i = 0; i < n; i++) {
		u64 d = (u64)s[i].w * b / CAL_WIDTH_ONE;

		if (beta < 0 ? s[i].x < d : s[i].x > UINT64_MAX - d)
			return false;
		adj[i] = (struct cal_sample){ beta < 0 ? s[i].x - d : s[i].x + d, s[i].y, s[i].w };
	}
	return true;
}

/* Passes of the correction: one finds beta; a second, only when the
 * first changed which samples are outliers. */
#define WIDTH_ITERS	2

/*
 * For a CS_WIDTH_FIT source: refits with each sample's time moved to
 * where its width says the read was (calfit.h), and returns the samples
 * to use (adj, or s when beta could not be applied), with f, *m, use[]
 * and r's fit fields for them. Sets r->width_beta and r->width_unc_ppb.
 * NULL when a refit failed.
 */
static const struct cal_sample *fit_width(struct cal_result *r, const struct cal_sample *s, u64 n,
					  struct fit *f, u64 *m)
{
	u64 ref_hz = r->cs->freq_hz, se = 0;
	const struct cal_sample *cur = s;
	s64 beta = 0, half = CAL_WIDTH_ONE / 2, dw = 0;

	for (int it = 0; it < WIDTH_ITERS; it++) {
		s64 g = width_slope(cur, *m, f, r->tsc_hz, ref_hz, &se, &dw);

		if (!g)
			break;
		beta = MAX(MIN(beta - g, half), -half);
		if (!move_by_width(s, n, beta)) {
			beta = 0;
			cur = s;
			if (!fit_kept(r, s, n, f, m))
				return NULL;
			break;
		}
		cur = adj;
		if (!fit_kept(r, adj, n, f, m))
			return NULL;
	}
	(void)width_slope(cur, *m, f, r->tsc_hz, ref_hz, &se, &dw);
	r->width_beta = beta;
	/* The rate is the two-group slope of x + beta w: beta off by se
	 * moves it by se x dw / dx (both in the two-group sums' units). */
	r->width_unc_ppb = mul_div_u128((u128)(u64)(dw < 0 ? -dw : dw) * se, 1000000000ull,
					f->dx * CAL_WIDTH_ONE);
	return cur;
}

static void estimate(struct cal_result *r, const struct cal_sample *s, u64 n)
{
	u64 maxw = 0, m = 0, ref_hz = r->cs->freq_hz, sigma, k;
	u128 ssq = 0;
	struct fit f;

	r->status = -EIO;
	r->gap_max = 0;
	r->width_beta = 0;
	r->width_unc_ppb = 0;
	n = MIN(n, (u64)CAL_MAX_SAMPLES);
	if (!fit_kept(r, s, n, &f, &m))
		return;
	if ((r->cs->flags & CS_WIDTH_FIT) && !(s = fit_width(r, s, n, &f, &m)))
		return;
	for (u64 k2 = 0; k2 < m; k2++) {
		s64 res = residual(&s[use[k2]], &f, r->tsc_hz, ref_hz);

		ssq += (u128)((s128)res * res);
		maxw = MAX(maxw, (u64)s[use[k2]].w);
		if (k2)
			r->gap_max = MAX(r->gap_max, s[use[k2]].x - s[use[k2 - 1]].x);
	}
	r->kept = m;
	r->max_width = maxw;
	r->span_cycles = s[use[m - 1]].x - s[use[0]].x;
	sigma = isqrt_u64(mul_div_u128(ssq, 1, m - 2));
	/* sd of the difference of the group means, sigma*sqrt(1/n1 + 1/n2),
	 * relative to that difference, dx / (n1 n2). */
	k = isqrt_u64(m * f.n[0] * f.n[1]);
	r->unc_ppb = mul_div_u128((u128)sigma * k, 1000000000ull, f.dx);
	/* That assumes independent samples; exits and timer delays come in
	 * bursts. A delete-a-block jackknife over JK_BLOCKS contiguous blocks
	 * sees noise correlated over shorter spans than a block; the larger
	 * of the two is stated. */
	r->unc_ppb = MAX(r->unc_ppb, jackknife_ppb(s, m, ref_hz, r->tsc_hz));
	/* The jackknife's blocks share one beta: its own error apart. */
	r->unc_ppb = hypot_u64(r->unc_ppb, r->width_unc_ppb);
	r->status = 0;
}

/* cal_estimate's arguments, for offload(). */
struct estimate_job {
	struct cal_result *r;
	const struct cal_sample *s;
	u64 n;
};

static u64 estimate_job(void *arg)
{
	struct estimate_job *j = arg;

	estimate(j->r, j->s, j->n);
	return 0;
}

void cal_estimate(struct cal_result *r, const struct cal_sample *s, u64 n)
{
	struct estimate_job j = { r, s, n };

	/* Pure arithmetic: offloaded where that is cheaper (lib/offload.h):
	 * 250-450 ms a window where the kernel's instructions are
	 * interpreted (kvm_pvm). */
	offload(estimate_job, &j);
}

/* The lower envelope of event timestamps and how flat its floor is.
 * Pure arithmetic, also built for the host tests: it must not read a
 * clock or print. */
#include "fit.h"
#include "math.h"
#include "offload.h"
#include "stats.h"

typedef __int128 s128;

/* Twice the signed area of (o, a, b): > 0 when a lies below the chord
 * from o to b, i.e. the turn o -> a -> b is convex from below. */
static s128 cross(const u64 *k, const u64 *t, u64 o, u64 a, u64 b)
{
	s128 dka = (s128)(k[a] - k[o]), dkb = (s128)(k[b] - k[o]);
	s128 dta = (s128)(s64)(t[a] - t[o]), dtb = (s128)(s64)(t[b] - t[o]);

	return dka * dtb - dta * dkb;
}

/*
 * The lower hull of the n points (in increasing k) into h (Andrew's
 * monotone chain), and of it the edge over the mean k: the line below
 * every point that is highest there. Returns false when no edge rises.
 */
static bool hull_edge(const u64 *k, const u64 *t, u64 n, u64 *h, struct envelope *e)
{
	unsigned __int128 sumk = 0;
	u64 nh = 0, j = 0;

	for (u64 p = 0; p < n; p++) {
		sumk += k[p] - k[0];
		while (nh >= 2 && cross(k, t, h[nh - 2], h[nh - 1], p) <= 0)
			nh--;
		h[nh++] = p;
	}
	if (nh < 2)
		return false;
	/* The first edge whose right end is at or past the mean. */
	while (j + 2 < nh && (unsigned __int128)(k[h[j + 1]] - k[0]) * n < sumk)
		j++;
	e->ka = k[h[j]];
	e->ta = t[h[j]];
	e->kb = k[h[j + 1]];
	e->tb = t[h[j + 1]];
	e->hull = nh;
	return (s64)(e->tb - e->ta) > 0;
}

/* Height of point i above the line of e (0 when on or below it). */
static u64 height(const u64 *k, const u64 *t, u64 i, const struct envelope *e)
{
	u64 dk = e->kb - e->ka, dt = e->tb - e->ta;
	s64 line = k[i] >= e->ka ? (s64)mul_div_u64(k[i] - e->ka, dt, dk)
				 : -(s64)mul_div_u64(e->ka - k[i], dt, dk);
	s64 above = (s64)(t[i] - e->ta) - line;

	return above > 0 ? (u64)above : 0;
}

/* The highest of the blocks' lowest points above the line. */
static u64 floor_max(const u64 *k, const u64 *t, u64 n, const struct envelope *e)
{
	u64 blocks = MIN((u64)ENV_BLOCKS, n / 2), worst = 0;

	for (u64 b = 0; b < blocks; b++) {
		u64 lo = n * b / blocks, hi = n * (b + 1) / blocks, low = UINT64_MAX;

		for (u64 i = lo; i < hi; i++)
			low = MIN(low, height(k, t, i, e));
		worst = MAX(worst, low);
	}
	return worst;
}

static int fit_envelope(const u64 *k, const u64 *t, u64 n, u64 *scratch, struct envelope *e)
{
	*e = (struct envelope){ 0 };
	if (n < ENV_MIN_POINTS)
		return -EINVAL;
	for (u64 i = 1; i < n; i++)
		if (k[i] <= k[i - 1] || k[i] - k[0] >= (1ull << 31))
			return -EINVAL;
	if ((s64)(t[n - 1] - t[0]) <= 0 || !hull_edge(k, t, n, scratch, e))
		return -EINVAL;
	/* How far above the line the points lie (the delivery delay beyond
	 * the floor), for the report. */
	for (u64 i = 0; i < n; i++)
		scratch[i] = height(k, t, i, e);
	e->lag_p50 = select_u64(scratch, n, n / 2);
	e->floor_max = floor_max(k, t, n, e);
	e->unc_ppb = mul_div_u64(e->floor_max, 1000000000ull, t[n - 1] - t[0]);
	return 0;
}

static u64 place(const u64 *t, u64 n, u64 period, u64 *k, u64 *scratch)
{
	u64 best_gap, phase;

	if (!n || !period)
		return 0;
	for (u64 i = 0; i < n; i++)
		scratch[i] = (t[i] - t[0]) % period;
	sort_u64(scratch, n);
	/* The gap that wraps around, then the ones between neighbours. */
	best_gap = scratch[0] + period - scratch[n - 1];
	phase = scratch[0];
	for (u64 i = 1; i < n; i++)
		if (scratch[i] - scratch[i - 1] > best_gap) {
			best_gap = scratch[i] - scratch[i - 1];
			phase = scratch[i];
		}
	/* Grid points at t[0] + phase + j * period; t[0] itself lies after
	 * the one at j = -1 (or on the one at 0 when phase is 0). */
	for (u64 i = 0; i < n; i++)
		k[i] = (t[i] - t[0] + period - phase) / period;
	/* The phases span the circle but for the largest gap. */
	return period - best_gap;
}

/* The median of the heights of points [lo, lo + q) and its 1-sigma, the
 * half distance of the ranks sqrt(q) / 2 either side (the sample median's
 * rank spreads binomially, sd sqrt(q) / 2); its middle point's t (from
 * t[0]) into *tm. */
static u64 third_median(const u64 *k, const u64 *t, u64 lo, u64 q, const struct envelope *e,
			u64 *scratch, u64 *sigma, u64 *tm)
{
	u64 r = (isqrt_u64(q) + 1) / 2;

	for (u64 i = 0; i < q; i++)
		scratch[i] = height(k, t, lo + i, e);
	sort_u64(scratch, q);
	*sigma = (scratch[MIN(q / 2 + r, q - 1)] - scratch[q / 2 >= r ? q / 2 - r : 0]) / 2;
	*tm = t[lo + q / 2] - t[0];
	return scratch[q / 2];
}

static u64 trend(const u64 *k, const u64 *t, u64 n, const struct envelope *e, u64 *scratch)
{
	u64 q = n / 3, ma, mb, sa, sb, ta, tb, worst = 0;

	if (q < 2) {
		for (u64 i = 0; i < n; i++)
			worst = MAX(worst, height(k, t, i, e));
		return n < 2 || t[n - 1] == t[0] ? UINT64_MAX :
		       mul_div_u64(worst, 1000000000ull, t[n - 1] - t[0]);
	}
	ma = third_median(k, t, 0, q, e, scratch, &sa, &ta);
	mb = third_median(k, t, n - q, q, e, scratch, &sb, &tb);
	if (tb <= ta)
		return UINT64_MAX;
	return mul_div_u64((ma > mb ? ma - mb : mb - ma) + hypot_u64(sa, sb), 1000000000ull, tb - ta);
}

/* envelope_fit's and grid_place's arguments, for offload(). */
struct fit_job {
	const u64 *k, *t;
	u64 n, period;
	u64 *kout, *scratch;
	struct envelope *e;
};

static u64 envelope_job(void *arg)
{
	struct fit_job *j = arg;

	return (u64)(s64)fit_envelope(j->k, j->t, j->n, j->scratch, j->e);
}

static u64 trend_job(void *arg)
{
	struct fit_job *j = arg;

	return trend(j->k, j->t, j->n, j->e, j->scratch);
}

static u64 place_job(void *arg)
{
	struct fit_job *j = arg;

	return place(j->t, j->n, j->period, j->kout, j->scratch);
}

/* Both are pure work over every event: offloaded (lib/offload.h), where
 * the kernel's own instructions are interpreted the hull, the selection
 * and the sort cost ~1 us an instruction. */
int envelope_fit(const u64 *k, const u64 *t, u64 n, u64 *scratch, struct envelope *e)
{
	struct fit_job j = { .k = k, .t = t, .n = n, .scratch = scratch, .e = e };

	return (int)(s64)offload(envelope_job, &j);
}

u64 envelope_trend_ppb(const u64 *k, const u64 *t, u64 n, const struct envelope *e, u64 *scratch)
{
	struct fit_job j = { .k = k, .t = t, .n = n, .scratch = scratch,
			     .e = (struct envelope *)e };

	return offload(trend_job, &j);
}

u64 grid_place(const u64 *t, u64 n, u64 period, u64 *k, u64 *scratch)
{
	struct fit_job j = { .t = t, .n = n, .period = period, .kout = k, .scratch = scratch };

	return offload(place_job, &j);
}

u64 envelope_rate(const struct envelope *e, u64 base_hz, u64 scale)
{
	return mul_div_u64((e->kb - e->ka) * scale, base_hz, e->tb - e->ta);
}

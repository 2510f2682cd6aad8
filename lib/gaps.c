/* Interval sets of absent time and what they excuse on a periodic grid.
 * It must not read a clock: callers hand in the TSC values. */
#include "gaps.h"

void gaps_init(struct gapset *s)
{
	s->n = 0;
	s->merged = 0;
}

static void remove_at(struct gapset *s, int i)
{
	for (int j = i; j + 1 < s->n; j++) {
		s->start[j] = s->start[j + 1];
		s->end[j] = s->end[j + 1];
	}
	s->n--;
}

static void insert_at(struct gapset *s, int i, u64 start, u64 end)
{
	for (int j = s->n; j > i; j--) {
		s->start[j] = s->start[j - 1];
		s->end[j] = s->end[j - 1];
	}
	s->start[i] = start;
	s->end[i] = end;
	s->n++;
}

/* Merges the two neighbours with the least space between them. */
static void merge_closest(struct gapset *s)
{
	int best = 0;

	for (int i = 1; i + 1 < s->n; i++)
		if (s->start[i + 1] - s->end[i] < s->start[best + 1] - s->end[best])
			best = i;
	s->end[best] = s->end[best + 1];
	remove_at(s, best + 1);
	s->merged++;
}

void gaps_add(struct gapset *s, u64 start, u64 end)
{
	int i = 0;

	if (end <= start)
		return;
	while (i < s->n && s->end[i] < start)
		i++;
	/* Every interval from i that starts at or before end overlaps or
	 * touches [start, end): fold them in. */
	while (i < s->n && s->start[i] <= end) {
		start = MIN(start, s->start[i]);
		end = MAX(end, s->end[i]);
		remove_at(s, i);
	}
	if (s->n == GAPS_MAX) {
		merge_closest(s);
		/* The merge may have moved the insertion point. */
		gaps_add(s, start, end);
		return;
	}
	insert_at(s, i, start, end);
}

void gaps_union(struct gapset *a, const struct gapset *b)
{
	for (int i = 0; i < b->n; i++)
		gaps_add(a, b->start[i], b->end[i]);
	a->merged += b->merged;
}

void gaps_widen(struct gapset *s, u64 before)
{
	for (int i = 0; i < s->n; i++)
		s->start[i] = s->start[i] > before ? s->start[i] - before : 0;
	gaps_bridge(s, 0);
	/* Widening can make an interval reach over its left neighbour. */
	for (int i = 0; i + 1 < s->n;) {
		if (s->start[i + 1] <= s->end[i]) {
			s->start[i] = MIN(s->start[i], s->start[i + 1]);
			s->end[i] = MAX(s->end[i], s->end[i + 1]);
			remove_at(s, i + 1);
		} else {
			i++;
		}
	}
}

void gaps_bridge(struct gapset *s, u64 space)
{
	for (int i = 0; i + 1 < s->n;) {
		if (s->start[i + 1] <= s->end[i] || s->start[i + 1] - s->end[i] < space) {
			s->end[i] = MAX(s->end[i], s->end[i + 1]);
			remove_at(s, i + 1);
		} else {
			i++;
		}
	}
}

void gaps_remove(struct gapset *s, u64 start, u64 end)
{
	if (end <= start)
		return;
	for (int i = 0; i < s->n; i++) {
		u64 a = s->start[i], b = s->end[i];

		if (b <= start || a >= end)
			continue;
		if (a < start && b > end) {
			/* Splits in two; one more slot is needed. */
			if (s->n == GAPS_MAX) {
				s->end[i] = start;	/* keep the first part only */
				s->merged++;
				return;
			}
			s->end[i] = start;
			insert_at(s, i + 1, end, b);
			return;
		}
		if (a < start) {
			s->end[i] = start;
		} else if (b > end) {
			s->start[i] = end;
		} else {
			remove_at(s, i);
			i--;
		}
	}
}

u64 gaps_total(const struct gapset *s)
{
	u64 t = 0;

	for (int i = 0; i < s->n; i++)
		t += s->end[i] - s->start[i];
	return t;
}

u64 gaps_total_in(const struct gapset *s, u64 lo, u64 hi)
{
	u64 t = 0;

	for (int i = 0; i < s->n; i++) {
		u64 a = MAX(s->start[i], lo), b = MIN(s->end[i], hi);

		if (b > a)
			t += b - a;
	}
	return t;
}

u64 gaps_longest(const struct gapset *s)
{
	u64 m = 0;

	for (int i = 0; i < s->n; i++)
		m = MAX(m, s->end[i] - s->start[i]);
	return m;
}

bool gaps_covers(const struct gapset *s, u64 t)
{
	for (int i = 0; i < s->n; i++)
		if (t >= s->start[i] && t < s->end[i])
			return true;
	return false;
}

/* Grid indices k with t0 + k * period in [a, b): their count. */
static u64 points_in(u64 t0, u64 period, u64 k_first, u64 k_last, u64 a, u64 b)
{
	u64 lo, hi;

	if (b <= t0 || period == 0)
		return 0;
	/* First k with t0 + k P >= a, and first k with t0 + k P >= b. */
	lo = a <= t0 ? 0 : (a - t0 + period - 1) / period;
	hi = (b - t0 + period - 1) / period;
	lo = MAX(lo, k_first);
	hi = MIN(hi, k_last == UINT64_MAX ? k_last : k_last + 1);
	return hi > lo ? hi - lo : 0;
}

u64 gaps_coalesced(const struct gapset *s, u64 t0, u64 period, u64 k_first, u64 k_last)
{
	u64 n = 0;

	for (int i = 0; i < s->n; i++) {
		u64 m = points_in(t0, period, k_first, k_last, s->start[i], s->end[i]);

		n += m ? m - 1 : 0;
	}
	return n;
}

/* The first index j of stamps[0..n) with stamps[j] >= t (n: none). */
static u64 first_at(const u64 *stamps, u64 n, u64 t)
{
	u64 lo = 0, hi = n;

	while (lo < hi) {
		u64 mid = lo + (hi - lo) / 2;

		if (stamps[mid] < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void gaps_pending(struct gapset *s, const u64 *stamps, u64 n, u64 t0, u64 period)
{
	if (!period || !n)
		return;
	for (int i = 0; i < s->n; i++) {
		u64 a = s->start[i], b = s->end[i], d, j;

		/* The last grid point before b, which must be at or after a. */
		if (b <= t0)
			continue;
		d = t0 + (b - t0 - 1) / period * period;
		if (d < a)
			continue;
		j = first_at(stamps, n, b);
		if (j == n || (j && stamps[j - 1] >= d) || stamps[j] - b >= period)
			continue;
		s->end[i] = stamps[j];
	}
	gaps_widen(s, 0);
}

u64 gaps_coalesced_any(const struct gapset *s, u64 period, u64 lo, u64 hi)
{
	u64 n = 0;

	if (!period)
		return 0;
	for (int i = 0; i < s->n; i++) {
		u64 a = MAX(s->start[i], lo), b = MIN(s->end[i], hi);

		if (b > a)
			n += (b - a) / period;
	}
	return n;
}

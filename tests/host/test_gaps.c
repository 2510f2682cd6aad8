/* The interval sets of absent time (lib/gaps.c) on the host, at their
 * edges: touching and nested intervals, a full set, splits, and grids
 * whose points fall exactly on an interval's ends. */
#include "tests/host/check.h"
#include "lib/gaps.h"

static void test_add_merge(void)
{
	struct gapset s;

	gaps_init(&s);
	gaps_add(&s, 10, 20);
	gaps_add(&s, 30, 40);
	CHECK(s.n == 2 && gaps_total(&s) == 20);
	gaps_add(&s, 20, 30);			/* touches both: one interval */
	CHECK(s.n == 1 && s.start[0] == 10 && s.end[0] == 40);
	gaps_add(&s, 15, 25);			/* nested: nothing changes */
	CHECK(s.n == 1 && gaps_total(&s) == 30);
	gaps_add(&s, 5, 5);			/* empty: ignored */
	gaps_add(&s, 7, 3);
	CHECK(s.n == 1);
	gaps_add(&s, 0, 1);
	gaps_add(&s, 100, 200);
	CHECK(s.n == 3 && s.start[0] == 0 && s.start[2] == 100);
	CHECK(gaps_longest(&s) == 100);
	CHECK(gaps_covers(&s, 10) && !gaps_covers(&s, 40) && gaps_covers(&s, 39));
	CHECK(gaps_total_in(&s, 35, 150) == 5 + 50);
	CHECK(gaps_total_in(&s, 300, 400) == 0);
}

static void test_full(void)
{
	struct gapset s;
	u64 total = 0;

	gaps_init(&s);
	for (u64 i = 0; i < 100; i++) {
		/* Spaces grow with i: the first ones are the closest. */
		gaps_add(&s, i * 1000 + i * i, i * 1000 + i * i + 10);
		total += 10;
	}
	CHECK(s.n == GAPS_MAX);
	CHECK(s.merged == 100 - GAPS_MAX);
	/* Merging only ever adds the spaces between: never less absent. */
	CHECK(gaps_total(&s) >= total);
	for (int i = 1; i < s.n; i++)
		CHECK(s.start[i] > s.end[i - 1]);
	/* Extremes of u64 stay ordered. */
	gaps_init(&s);
	gaps_add(&s, UINT64_MAX - 10, UINT64_MAX);
	gaps_add(&s, 0, 10);
	CHECK(s.n == 2 && s.start[1] == UINT64_MAX - 10 && gaps_total(&s) == 20);
}

static void test_remove(void)
{
	struct gapset s;

	gaps_init(&s);
	gaps_add(&s, 0, 100);
	gaps_remove(&s, 40, 60);		/* splits */
	CHECK(s.n == 2 && gaps_total(&s) == 80 && s.end[0] == 40 && s.start[1] == 60);
	gaps_remove(&s, 0, 10);			/* trims the front */
	CHECK(s.start[0] == 10);
	gaps_remove(&s, 90, 200);		/* trims the back */
	CHECK(s.end[1] == 90);
	gaps_remove(&s, 0, 1000);		/* removes all */
	CHECK(s.n == 0 && gaps_total(&s) == 0);
	/* A split in a full set keeps the first part and counts a merge. */
	gaps_init(&s);
	for (u64 i = 0; i < GAPS_MAX; i++)
		gaps_add(&s, i * 100, i * 100 + 50);
	gaps_remove(&s, 10, 20);
	CHECK(s.n == GAPS_MAX && s.end[0] == 10 && s.merged == 1);
}

static void test_coalesced(void)
{
	struct gapset s;

	gaps_init(&s);
	/* Grid at 0, 10, 20, ...: [5, 35) holds 10, 20, 30: excuses 2. */
	gaps_add(&s, 5, 35);
	CHECK(gaps_coalesced(&s, 0, 10, 0, 100) == 2);
	/* [40, 50) holds 40 only (the end is open): excuses none. */
	gaps_add(&s, 40, 50);
	CHECK(gaps_coalesced(&s, 0, 10, 0, 100) == 2);
	/* Only grid points k_first..k_last count. */
	CHECK(gaps_coalesced(&s, 0, 10, 2, 2) == 0);
	CHECK(gaps_coalesced(&s, 0, 10, 2, 3) == 1);
	/* An interval before the grid's origin holds nothing. */
	gaps_init(&s);
	gaps_add(&s, 0, 100);
	CHECK(gaps_coalesced(&s, 200, 10, 0, 100) == 0);
	CHECK(gaps_coalesced(&s, 50, 10, 0, 100) == 4);	/* 50..90 */
	CHECK(gaps_coalesced(&s, 0, 0, 0, 100) == 0);		/* no period */
	/* Without the phase: floor(L / period) of the part in [lo, hi). */
	CHECK(gaps_coalesced_any(&s, 10, 0, 1000) == 10);
	CHECK(gaps_coalesced_any(&s, 10, 95, 1000) == 0);
	CHECK(gaps_coalesced_any(&s, 30, 0, 1000) == 3);
	CHECK(gaps_coalesced_any(&s, 0, 0, 1000) == 0);
	/* Near the top of u64 no product overflows. */
	gaps_init(&s);
	gaps_add(&s, UINT64_MAX - 1000, UINT64_MAX);
	CHECK(gaps_coalesced(&s, UINT64_MAX - 2000, 100, 0, UINT64_MAX / 200) == 9);
	CHECK(gaps_coalesced(&s, UINT64_MAX - 2000, 100, 0, UINT64_MAX) == 9);
}

static void test_bridge(void)
{
	struct gapset s;

	gaps_init(&s);
	gaps_add(&s, 0, 10);
	gaps_add(&s, 15, 20);		/* 5 apart */
	gaps_add(&s, 40, 50);		/* 20 apart */
	gaps_add(&s, 59, 60);		/* 9 apart */
	gaps_bridge(&s, 10);
	CHECK(s.n == 2 && s.end[0] == 20 && s.start[1] == 40 && s.end[1] == 60);
	gaps_bridge(&s, 20);		/* exactly 20 apart: stays */
	CHECK(s.n == 2);
	gaps_bridge(&s, 21);
	CHECK(s.n == 1 && gaps_total(&s) == 60);
	gaps_init(&s);
	gaps_bridge(&s, 100);		/* empty: nothing to do */
	CHECK(s.n == 0);
}

static void test_widen(void)
{
	struct gapset s;

	gaps_init(&s);
	gaps_add(&s, 5, 10);
	gaps_add(&s, 20, 30);
	gaps_add(&s, 32, 40);
	gaps_widen(&s, 8);		/* [0,10) [12,30) [24,40) -> [0,10) [12,40) */
	CHECK(s.n == 2 && s.start[0] == 0 && s.end[0] == 10 && s.start[1] == 12 && s.end[1] == 40);
	gaps_widen(&s, 2);		/* [0,10) [10,40) touch: one */
	CHECK(s.n == 1 && s.start[0] == 0 && s.end[0] == 40);
	gaps_widen(&s, UINT64_MAX);	/* saturates at 0 */
	CHECK(s.n == 1 && s.start[0] == 0);
}

static void test_union(void)
{
	struct gapset a, b;

	gaps_init(&a);
	gaps_init(&b);
	gaps_add(&a, 0, 10);
	gaps_add(&b, 5, 20);
	gaps_add(&b, 30, 40);
	gaps_union(&a, &b);
	CHECK(a.n == 2 && a.start[0] == 0 && a.end[0] == 20 && gaps_total(&a) == 30);
}

static void test_pending(void)
{
	struct gapset s;
	/* Grid of 10 from 0: points 0, 10, 20, ... */
	const u64 late[] = { 1, 11, 21, 36, 41 };	/* tick 30 taken at 36 */
	const u64 prompt[] = { 1, 11, 21, 33, 41 };
	const u64 inside[] = { 1, 11, 21, 31, 41 };
	const u64 dropped[] = { 1, 11, 21, 51 };
	const u64 merged[] = { 1, 11, 21, 41, 51 };	/* tick 30 taken at 41 */

	/* Absent [28, 33): point 30 pending until 36, past point 40? No:
	 * 36 < 40, nothing merged; the interval grows to 36 only. */
	gaps_init(&s);
	gaps_add(&s, 28, 33);
	gaps_pending(&s, late, 5, 0, 10);
	CHECK(s.n == 1 && s.start[0] == 28 && s.end[0] == 36);
	CHECK(gaps_coalesced(&s, 0, 10, 0, 5) == 0);
	/* Absent [28, 38): tick 30 taken at 41, after point 40: merged. */
	gaps_init(&s);
	gaps_add(&s, 28, 38);
	gaps_pending(&s, merged, 5, 0, 10);
	CHECK(s.end[0] == 41 && gaps_coalesced(&s, 0, 10, 0, 5) == 1);
	/* Taken inside the absence (at 31, after its point 30): not pending. */
	gaps_init(&s);
	gaps_add(&s, 28, 38);
	gaps_pending(&s, inside, 5, 0, 10);
	CHECK(s.end[0] == 38 && gaps_coalesced(&s, 0, 10, 0, 5) == 0);
	/* No grid point inside: nothing pending. */
	gaps_init(&s);
	gaps_add(&s, 31, 38);
	gaps_pending(&s, prompt, 5, 0, 10);
	CHECK(s.end[0] == 38);
	/* The next stamp a period or more after the end is not the pending
	 * tick's delivery (a device that dropped ticks): at most one point
	 * more is ever excused. */
	gaps_init(&s);
	gaps_add(&s, 28, 38);
	gaps_pending(&s, dropped, 4, 0, 10);
	CHECK(s.end[0] == 38 && gaps_coalesced(&s, 0, 10, 0, 5) == 0);
	/* No stamp after: unchanged; no period or stamps: unchanged. */
	gaps_init(&s);
	gaps_add(&s, 45, 48);
	gaps_pending(&s, prompt, 5, 0, 10);
	gaps_pending(&s, prompt, 0, 0, 10);
	gaps_pending(&s, prompt, 5, 0, 0);
	CHECK(s.n == 1 && s.end[0] == 48);
	/* Before the grid's origin: nothing. */
	gaps_init(&s);
	gaps_add(&s, 2, 5);
	gaps_pending(&s, prompt, 5, 100, 10);
	CHECK(s.end[0] == 5);
	/* A lengthened interval that reaches over the next merges with it,
	 * keeping the larger end. */
	gaps_init(&s);
	gaps_add(&s, 28, 38);
	gaps_add(&s, 39, 40);
	gaps_pending(&s, merged, 5, 0, 10);
	CHECK(s.n == 1 && s.start[0] == 28 && s.end[0] == 41);
	/* At the top of the range. */
	{
		const u64 top[] = { UINT64_MAX - 29, UINT64_MAX - 5 };

		gaps_init(&s);
		gaps_add(&s, UINT64_MAX - 25, UINT64_MAX - 12);
		gaps_pending(&s, top, 2, UINT64_MAX - 30, 10);
		CHECK(s.end[0] == UINT64_MAX - 5);
	}
}

int main(void)
{
	test_add_merge();
	test_full();
	test_remove();
	test_coalesced();
	test_pending();
	test_bridge();
	test_widen();
	test_union();
	return check_report("test_gaps");
}

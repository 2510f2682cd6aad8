/* Order statistics over samples: min, percentiles, max. */
#ifndef LIB_STATS_H
#define LIB_STATS_H

#include "types.h"

struct summary {
	u64 min, p50, p90, p99, max;
	size_t n;
};

/* Sorts v[0..n) in place (heapsort: O(n log n), no recursion). */
void sort_u64(u64 *v, size_t n);
/* The k-th smallest of v[0..n) (k < n), reordering v: quickselect,
 * O(n) on average, for a median without a full sort. v is left
 * partitioned around index k: nothing before it larger, nothing after
 * it smaller (summarize relies on that). */
u64 select_u64(u64 *v, size_t n, size_t k);
/* Fills s; percentile p is the element at index floor(p * (n - 1) / 100)
 * of v sorted (nearest rank, no interpolation). Reorders v (by selection:
 * it is left partitioned, not sorted). n may be 0 (everything 0). */
void summarize(u64 *v, size_t n, struct summary *s);

#endif

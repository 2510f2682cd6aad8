/* Sorting, selection and percentiles over u64 samples. It must not
 * allocate or recurse: samples are sorted in place. */
#include "stats.h"

static void sift_down(u64 *v, size_t start, size_t end)
{
	size_t root = start;

	while (2 * root + 1 < end) {
		size_t child = 2 * root + 1;
		u64 t;

		if (child + 1 < end && v[child] < v[child + 1])
			child++;
		if (v[root] >= v[child])
			return;
		t = v[root];
		v[root] = v[child];
		v[child] = t;
		root = child;
	}
}

void sort_u64(u64 *v, size_t n)
{
	if (n < 2)
		return;
	for (size_t i = n / 2; i-- > 0;)
		sift_down(v, i, n);
	for (size_t end = n - 1; end > 0; end--) {
		u64 t = v[0];

		v[0] = v[end];
		v[end] = t;
		sift_down(v, 0, end);
	}
}

void summarize(u64 *v, size_t n, struct summary *s)
{
	s->n = n;
	if (n == 0) {
		s->min = s->p50 = s->p90 = s->p99 = s->max = 0;
		return;
	}
	sort_u64(v, n);
	s->min = v[0];
	s->p50 = v[50 * (n - 1) / 100];
	s->p90 = v[90 * (n - 1) / 100];
	s->p99 = v[99 * (n - 1) / 100];
	s->max = v[n - 1];
}

u64 select_u64(u64 *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;

	while (lo < hi) {
		/* Median of three as the pivot keeps sorted input linear. */
		size_t mid = lo + (hi - lo) / 2, i = lo, j = hi;
		u64 a = v[lo], b = v[mid], c = v[hi];
		u64 pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));

		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				u64 t = v[i];

				v[i] = v[j];
				v[j] = t;
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return v[k];
	}
	return v[k];
}

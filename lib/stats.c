/* Sorting, selection and percentiles over u64 samples. It must not
 * allocate or recurse: samples are sorted in place. */
#include "stats.h"
#include "offload.h"

/* From this many samples on, sorts and summaries are offloaded: one trip
 * to CPL 3 and back (~95 us under kvm_pvm) costs about what ~150
 * interpreted instructions do, a summary of 16 samples several times that. */
#define STATS_OFFLOAD_MIN	16

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

static void heap_sort(u64 *v, size_t n)
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

/*
 * Chained selections instead of a sort: select_u64 leaves v partitioned
 * around the rank it found (nothing after it is smaller), so the next (a higher rank) is looked for only
 * above it. About 4n comparisons instead of 2n log2 n, the same values;
 * where the guest is interpreted (kvm_pvm) a 1000-sample sort took a
 * large share of each read-cost test.
 */
static void chain_select(u64 *v, size_t n, struct summary *s)
{
	size_t k50, k90, k99;

	s->n = n;
	if (n == 0) {
		s->min = s->p50 = s->p90 = s->p99 = s->max = 0;
		return;
	}
	k50 = 50 * (n - 1) / 100;
	k90 = 90 * (n - 1) / 100;
	k99 = 99 * (n - 1) / 100;
	s->p50 = select_u64(v, n, k50);
	s->p90 = select_u64(v + k50, n - k50, k90 - k50);
	s->p99 = select_u64(v + k90, n - k90, k99 - k90);
	s->min = v[0];
	for (size_t i = 1; i <= k50; i++)
		s->min = v[i] < s->min ? v[i] : s->min;
	s->max = v[k99];
	for (size_t i = k99 + 1; i < n; i++)
		s->max = v[i] > s->max ? v[i] : s->max;
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

/* A sort or a summary's arguments, for offload(). */
struct stats_job {
	u64 *v;
	size_t n;
	struct summary *s;
};

static u64 sort_job(void *arg)
{
	struct stats_job *j = arg;

	heap_sort(j->v, j->n);
	return 0;
}

static u64 summary_job(void *arg)
{
	struct stats_job *j = arg;

	chain_select(j->v, j->n, j->s);
	return 0;
}

/* Pure work over many samples is offloaded (lib/offload.h: run natively
 * where the kernel is interpreted); a handful is not worth the trip. */
void sort_u64(u64 *v, size_t n)
{
	struct stats_job j = { v, n, NULL };

	if (n >= STATS_OFFLOAD_MIN)
		offload(sort_job, &j);
	else
		heap_sort(v, n);
}

void summarize(u64 *v, size_t n, struct summary *s)
{
	struct stats_job j = { v, n, s };

	if (n >= STATS_OFFLOAD_MIN)
		offload(summary_job, &j);
	else
		chain_select(v, n, s);
}

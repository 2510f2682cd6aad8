/* Hyper-V's reference TSC page read on the host against a simulated
 * hypervisor that rewrites the page while the guest reads it, as the TLFS
 * allows (sequence bumped, scale and offset changed): the reader retries,
 * falls back on sequence 0, gives up on a page that never holds still,
 * and the reference time arithmetic holds at its extremes. */
#include "tests/host/check.h"
#include "drivers/hyperv.h"

struct sim {
	struct hv_tsc_page page;
	u64 tsc;		/* the simulated TSC, advanced per read */
	u64 step;
	int reads;
	int rewrite_at;		/* on this read, the hypervisor rewrites the page */
	bool always;		/* ... or on every read */
	u64 new_scale;
	s64 new_offset;
};

/* The TSC read inside the reader's sequence window: where a hypervisor
 * update lands to test the retry. */
static u64 sim_rdtsc(void *ctx)
{
	struct sim *s = ctx;

	s->reads++;
	s->tsc += s->step;
	if (s->always || s->reads == s->rewrite_at) {
		s->page.sequence++;
		s->page.scale = s->new_scale;
		s->page.offset = s->new_offset;
	}
	return s->tsc;
}

/* The scale for a TSC of hz: 10^7 * 2^64 / hz, as the hypervisor sets it. */
static u64 scale_for(u64 hz)
{
	return (u64)(((u128)HV_REF_HZ << 64) / hz);
}

static void test_arith(void)
{
	u64 hz = 2596148000ull, scale = scale_for(hz);

	/* One second of TSC is 10^7 units, to within one unit. */
	CHECK(hv_ref_time(scale, 0, hz) >= HV_REF_HZ - 1 && hv_ref_time(scale, 0, hz) <= HV_REF_HZ);
	/* The offset may be negative (a TSC that started before the
	 * partition's reference time). */
	CHECK(hv_ref_time(scale, -5, hz) == hv_ref_time(scale, 0, hz) - 5);
	/* Extremes: the product's top half never overflows. */
	CHECK(hv_ref_time(UINT64_MAX, 0, UINT64_MAX) == UINT64_MAX - 1);
	CHECK(hv_ref_time(0, 7, UINT64_MAX) == 7);
	/* The scale's implied rate round-trips to within 1 Hz. */
	for (u64 f = 10000001ull; f < 10000000000000ull; f = f * 7 + 3) {
		u64 back = hv_scale_tsc_hz(scale_for(f));

		CHECK(back + 1 >= f && back <= f + 1);
	}
	CHECK(hv_scale_tsc_hz(0) == 0);
	CHECK(hv_scale_tsc_hz(HV_REF_HZ) == UINT64_MAX);
}

static void test_reader(void)
{
	u64 hz = 3000000000ull, ref = 0, retries = 0;
	struct sim s = { .page = { .sequence = 1, .scale = scale_for(hz), .offset = 100 },
			 .tsc = hz, .step = 1000 };

	/* A quiet page: one read, no retry. */
	CHECK(hv_tsc_page_read(&s.page, sim_rdtsc, &s, &ref, &retries));
	CHECK(retries == 0 && s.reads == 1);
	CHECK(ref == hv_ref_time(s.page.scale, 100, hz + 1000));
	/* The hypervisor rewrites the page during the first read: the
	 * values of that read are thrown away and the new ones used. */
	s = (struct sim){ .page = { .sequence = 1, .scale = scale_for(hz), .offset = 100 },
			  .tsc = hz, .step = 1000, .rewrite_at = 1, .new_scale = scale_for(hz / 2),
			  .new_offset = 5000 };
	CHECK(hv_tsc_page_read(&s.page, sim_rdtsc, &s, &ref, &retries));
	CHECK(retries == 1 && s.reads == 2 && s.page.sequence == 2);
	CHECK(ref == hv_ref_time(scale_for(hz / 2), 5000, hz + 2000));
	/* Sequence 0: invalid, the caller must use the MSR; the TSC is not
	 * even read. */
	s.page.sequence = 0;
	s.reads = 0;
	CHECK(!hv_tsc_page_read(&s.page, sim_rdtsc, &s, &ref, &retries) && s.reads == 0);
	/* A page that changes on every read: bounded, then false. */
	s = (struct sim){ .page = { .sequence = 1, .scale = scale_for(hz) }, .step = 1,
			  .always = true, .new_scale = scale_for(hz) };
	retries = 0;
	CHECK(!hv_tsc_page_read(&s.page, sim_rdtsc, &s, &ref, &retries));
	CHECK(retries == HV_PAGE_MAX_RETRIES && s.reads == HV_PAGE_MAX_RETRIES);
	/* The sequence wrapping to 0 mid-read (a hypervisor invalidating
	 * the page) is a change, then invalid. */
	s = (struct sim){ .page = { .sequence = 0xFFFFFFFFu, .scale = scale_for(hz) }, .step = 1,
			  .rewrite_at = 1, .new_scale = scale_for(hz) };
	retries = 0;
	CHECK(!hv_tsc_page_read(&s.page, sim_rdtsc, &s, &ref, &retries) && retries == 1);
}

int main(void)
{
	test_arith();
	test_reader();
	return check_report("test_hyperv");
}

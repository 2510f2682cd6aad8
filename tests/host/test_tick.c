/* The software-timer heap and the mult/shift conversion, on the host. It
 * must use only HOST_LIB code (ASan/UBSan build). */
#include "tests/host/check.h"
#include "tick/clocksource.h"
#include "tick/timekeeping.h"
#include "tick/timer.h"
#include <stdlib.h>
#include <time.h>

static u64 fired_order[4096];
static int nfired;

static void record(struct swtimer *t, u64 now)
{
	(void)now;
	fired_order[nfired++] = t->expires;
}

static void test_heap_order(void)
{
	static struct swtimer t[1000];
	static struct swtimer *storage[1000];
	struct timer_queue q;
	u64 seed = 42;

	timerq_init(&q, storage, 1000);
	for (int i = 0; i < 1000; i++) {
		seed = seed * 6364136223846793005ull + 1;
		swtimer_init(&t[i], record, NULL);
		t[i].expires = (seed >> 40) % 500;	/* many ties */
		CHECK(timerq_add(&q, &t[i]) == 0);
	}
	/* Remove every third, then re-add some with new times. */
	for (int i = 0; i < 1000; i += 3)
		CHECK(timerq_del(&q, &t[i]));
	CHECK(!timerq_del(&q, &t[0]));	/* already gone */
	for (int i = 0; i < 1000; i += 6) {
		t[i].expires = 250;
		CHECK(timerq_add(&q, &t[i]) == 0);
	}
	/* Re-adding a queued timer moves it rather than duplicating it. */
	t[1].expires = 7;
	CHECK(timerq_add(&q, &t[1]) == 0);
	nfired = 0;
	CHECK(timerq_run(&q, 100) > 0);
	CHECK(timerq_peek(&q)->expires > 100);
	CHECK(timerq_run(&q, 1000) + nfired > 0);
	CHECK(timerq_peek(&q) == NULL);
	CHECK(nfired == 1000 - 334 + 167);
	for (int i = 1; i < nfired; i++)
		CHECK(fired_order[i - 1] <= fired_order[i]);
	/* A full queue refuses. */
	timerq_init(&q, storage, 2);
	CHECK(timerq_add(&q, &t[2]) == 0 && timerq_add(&q, &t[4]) == 0);
	CHECK(timerq_add(&q, &t[5]) == -ERANGE);
}

static void other(struct swtimer *t, u64 now)
{
	(void)t;
	(void)now;
}

/* Removing every timer of one callback at once leaves a heap of the rest,
 * in order, each removed one unqueued. */
static void test_del_fn(void)
{
	static struct swtimer t[300], *storage[300];
	struct timer_queue q;

	/* Every third another callback's; expiries scattered, with ties. */
	timerq_init(&q, storage, 300);
	for (int i = 0; i < 300; i++) {
		swtimer_init(&t[i], i % 3 ? record : other, NULL);
		t[i].expires = (u64)i * 37 % 100;
		CHECK(timerq_add(&q, &t[i]) == 0);
	}
	CHECK(timerq_del_fn(&q, record) == 200);
	CHECK(timerq_del_fn(&q, record) == 0);
	for (int i = 0; i < 300; i++)
		CHECK((t[i].slot < 0) == (i % 3 != 0));
	CHECK(!timerq_del(&q, &t[1]));	/* already gone */
	t[1].expires = 50;
	CHECK(timerq_add(&q, &t[1]) == 0);	/* and can be queued again */
	nfired = 0;
	CHECK(timerq_run(&q, 1000) == 101);
	for (int i = 1; i < nfired; i++)
		CHECK(fired_order[i - 1] <= fired_order[i]);
	CHECK(nfired == 1);	/* only t[1] records */
	CHECK(timerq_peek(&q) == NULL);
}

static struct swtimer *self;
static int self_runs;

static void rearm_past(struct swtimer *t, u64 now)
{
	static struct timer_queue *qq;

	(void)now;
	self_runs++;
	if (!qq)
		qq = t->ctx;
	timerq_add(qq, t);	/* same (past) time again */
}

static void test_runaway_bound(void)
{
	static struct swtimer t;
	static struct swtimer *storage[4];
	struct timer_queue q;

	timerq_init(&q, storage, 4);
	swtimer_init(&t, rearm_past, &q);
	t.expires = 5;
	self = &t;
	timerq_add(&q, &t);
	CHECK(timerq_run(&q, 10) == 2 * 1 + 16);	/* bounded */
	CHECK(self_runs == 18);
}

static u64 fake_counter;
static u64 fake_read(struct clocksource *cs) { (void)cs; return fake_counter; }

static void test_mult_shift(void)
{
	static const u64 freqs[] = { 3579545, 1193182, 100000000, 1000000000, 2000000000,
				     3999999999ull, 32768 };
	u32 mult, shift;

	for (size_t i = 0; i < sizeof(freqs) / sizeof(freqs[0]); i++) {
		u64 f = freqs[i], cyc = f * 10;	/* 10 s */

		clocks_calc_mult_shift(&mult, &shift, f, 1000000000ull, 20);
		/* No overflow over the interval, and accurate to well under a
		 * ppm (the rounding of mult). */
		CHECK((unsigned __int128)cyc * mult < ((unsigned __int128)1 << 64));
		{
			double ns = (double)((cyc * mult) >> shift);
			double err = ns / 1e10 - 1;

			CHECK(err < 1e-7 && err > -1e-7);
		}
	}
	/* Linux's values for the PM timer at 4 s: mult 2343484437, shift 23
	 * would be for maxsec 4; just check the shift is as large as allowed. */
	clocks_calc_mult_shift(&mult, &shift, 3579545, 1000000000ull, 4);
	CHECK(shift >= 20);
}

static void test_timekeeping_wrap(void)
{
	struct clocksource cs = { .name = "fake24", .read = fake_read, .mask = 0xFFFFFF,
				  .freq_hz = 3579545 };
	struct timekeeper tk;
	u64 expect = 0;

	fake_counter = 0xFFFF00;
	timekeeping_init(&tk, &cs, 1000);
	/* Advance 10 s in steps under half a wrap, across many wraps. */
	for (int i = 0; i < 100; i++) {
		fake_counter = (fake_counter + 357954) & 0xFFFFFF;	/* 0.1 s */
		expect += 357954;
		tk_update(&tk);
	}
	{
		double ns = (double)tk_now_ns(&tk), want = (double)expect * 1e9 / 3579545;

		CHECK(ns - want < 1000 && want - ns < 1000);	/* fractions kept */
		CHECK(tk_wall_ns(&tk) == 1000 + tk_now_ns(&tk));
	}
}

/* Host benchmark: insert and expire cost per timer at growing n. */
static void bench(void)
{
	static struct swtimer t[100000];
	static struct swtimer *storage[100000];
	struct timer_queue q;
	int sizes[] = { 1000, 10000, 100000 };

	for (int k = 0; k < 3; k++) {
		int n = sizes[k];
		struct timespec a, b, c;
		u64 seed = 7;

		timerq_init(&q, storage, n);
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (int i = 0; i < n; i++) {
			seed = seed * 6364136223846793005ull + 1;
			swtimer_init(&t[i], record, NULL);
			t[i].expires = seed >> 20;
			timerq_add(&q, &t[i]);
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		nfired = 0;
		while (timerq_peek(&q))
			timerq_del(&q, timerq_peek(&q));
		clock_gettime(CLOCK_MONOTONIC, &c);
		printf("bench timerq n=%d: insert %.1f ns/timer, expire %.1f ns/timer\n", n,
		       ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n,
		       ((c.tv_sec - b.tv_sec) * 1e9 + (c.tv_nsec - b.tv_nsec)) / n);
	}
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "bench")) {
		bench();
		return 0;
	}
	test_heap_order();
	test_del_fn();
	test_runaway_bound();
	test_mult_shift();
	test_timekeeping_wrap();
	return check_report("test_tick");
}

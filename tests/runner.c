/* The test registry and runner: selects tests from the .tests section,
 * orders suites and tests, runs each under the watchdog and turns the
 * verdicts into the exit code. It must not format the report (report/
 * does) nor program timers (watchdog.c does). */
#include "test.h"
#include "select.h"
#include "watchdog.h"
#include "arch-x86/cpu.h"
#include "arch-x86/delay.h"
#include "arch-x86/platform.h"
#include "lib/cmdline.h"
#include "lib/offload.h"
#include "report/dashboard.h"
#include "lib/str.h"

#define MAX_SUITES	32

extern const struct test __tests_start[], __tests_end[];

/* Suites in report order; others follow in link order. */
static const char *const suite_order[] = {
	"platform", "paging", "irq", "tsc", "hpet", "pm", "pit", "rtc", "kvmclock", "hyperv", "lapic", "tscdeadline",
	"drift", "tick", "smp", "host", "monitor",
};

struct suite {
	const char *name;
	int rank;
	int selected;
	int first;		/* its first test in ordered[] */
};

/*
 * The selected tests, suite by suite in report order and in declaration
 * order within each, found once by runner_begin: finding each next test
 * by a scan of the whole section was quadratic, which counts where the
 * guest is interpreted (kvm_pvm). Past MAX_TESTS the scan is used.
 */
#define MAX_TESTS	512
static const struct test *ordered[MAX_TESTS];
static bool ordered_ok;

static struct suite suites[MAX_SUITES];
static int nsuites, nselected_suites, ntests;
static const char *globs;
static bool verbose;

bool test_verbose(void) { return verbose; }

bool test_planted(struct test_env *env, const char *what, const char *how)
{
	if (!cmdline_list_has(env->cmd, "plant", what))
		return false;
	diag("plant=%s: %s (self-test: this check must FAIL)", what, how);
	return true;
}

/* ---- selection ---- */

static bool match(const struct test *t)
{
	return select_match(globs, t->suite, t->name, t->explicit_only);
}

/*
 * Each test's selection, matched once by runner_begin's plan, and the
 * walks of the registry run at CPL 3 (lib/offload.h): under kvm_pvm, which
 * interprets ring-0 code, the plan took 39-55 ms in ring 0 and 0.5 ms at
 * CPL 3, and test_selected's walk (14 calls a default run) 0.6-0.8 ms a
 * call, ~0.15 ms as one trip (throwaway timing builds, default KVM runs).
 * Past MAX_TESTS registry entries, match() decides each time.
 */
static bool chosen[MAX_TESTS];
static bool chosen_ok;

static bool selected(const struct test *t)
{
	return chosen_ok ? chosen[t - __tests_start] : match(t);
}

static int rank_of(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(suite_order); i++)
		if (!strcmp(suite_order[i], name))
			return (int)i;
	return (int)ARRAY_SIZE(suite_order);
}

static struct suite *suite_of(const char *name)
{
	for (int i = 0; i < nsuites; i++)
		if (!strcmp(suites[i].name, name))
			return &suites[i];
	if (nsuites == MAX_SUITES)
		return NULL;
	suites[nsuites] = (struct suite){ .name = name, .rank = rank_of(name) };
	return &suites[nsuites++];
}

/* Declaration order within a file (__COUNTER__), then address. */
static bool before(const struct test *a, const struct test *b)
{
	return a->order < b->order || (a->order == b->order && a < b);
}

/* Fills ordered[]: each suite's selected tests (insertion sort by
 * before(), which orders every pair: the same order a scan for the next
 * one gives), suites in their sorted order. */
static void order_tests(void)
{
	int n = 0;

	ordered_ok = ntests <= MAX_TESTS;
	for (int i = 0; i < nsuites && ordered_ok; i++) {
		suites[i].first = n;
		for (const struct test *t = __tests_start; t < __tests_end; t++) {
			int j;

			if (strcmp(t->suite, suites[i].name) || !selected(t))
				continue;
			if (n == MAX_TESTS) {
				ordered_ok = false;
				break;
			}
			for (j = n++; j > suites[i].first && before(t, ordered[j - 1]); j--)
				ordered[j] = ordered[j - 1];
			ordered[j] = t;
		}
	}
}

static void (*poll_fn)(enum test_poll_how how);

void test_poll_set(void (*fn)(enum test_poll_how how))
{
	poll_fn = fn;
}

void test_poll(enum test_poll_how how)
{
	if (poll_fn)
		poll_fn(how);
}

bool test_poll_pending(void)
{
	return poll_fn != NULL;
}

struct find_job {
	const char *suite, *name;
};

/* The first test named suite.name, for offload(): its registry index + 1,
 * 0 when there is none. */
static u64 find_job(void *arg)
{
	const struct find_job *j = arg;

	for (const struct test *t = __tests_start; t < __tests_end; t++)
		if (!strcmp(t->suite, j->suite) && !strcmp(t->name, j->name))
			return (u64)(t - __tests_start) + 1;
	return 0;
}

bool test_selected(const char *suite, const char *name)
{
	struct find_job j = { suite, name };
	u64 i = offload(find_job, &j);

	return i && selected(&__tests_start[i - 1]);
}

/* The plan from the selection (globs): each test's match, the suites and
 * their order, ordered[]; pure computation, for offload(). */
static u64 plan_job(void *arg)
{
	(void)arg;
	chosen_ok = __tests_end - __tests_start <= MAX_TESTS;
	for (const struct test *t = __tests_start; t < __tests_end && chosen_ok; t++)
		chosen[t - __tests_start] = match(t);
	for (const struct test *t = __tests_start; t < __tests_end; t++) {
		struct suite *s = suite_of(t->suite);

		if (s && selected(t))
			s->selected++;
	}
	/* Stable order by rank (insertion sort: a handful of suites). */
	for (int i = 1; i < nsuites; i++)
		for (int j = i; j > 0 && suites[j].rank < suites[j - 1].rank; j--) {
			struct suite tmp = suites[j];

			suites[j] = suites[j - 1];
			suites[j - 1] = tmp;
		}
	for (int i = 0; i < nsuites; i++) {
		nselected_suites += suites[i].selected > 0;
		ntests += suites[i].selected;
	}
	order_tests();
	return 0;
}

void runner_begin(struct test_env *env)
{
	globs = cmdline_get(env->cmd, "test");
	/* monitor=SECONDS runs monitor mode alone unless test= says more. */
	if (!globs && cmdline_get(env->cmd, "monitor"))
		globs = "monitor.*";
	verbose = cmdline_has(env->cmd, "verbose");
	offload(plan_job, NULL);
	dashboard_plan(ntests);
	ktap_begin(nselected_suites);
	watchdog_setup(env);
}

/* ---- running ---- */


/* The selected test of suite that comes next after `after` (NULL: the
 * first): the compiler may emit a file's descriptors in any order. */
static const struct test *next_test(const char *suite, const struct test *after)
{
	const struct test *best = NULL;

	for (const struct test *t = __tests_start; t < __tests_end; t++)
		if (!strcmp(t->suite, suite) && selected(t) && (!after || before(after, t)) &&
		    (!best || before(t, best)))
			best = t;
	return best;
}

/* The k-th selected test of s (after prev, the (k-1)-th), NULL past the
 * last: from ordered[] when it holds every selected test. */
static const struct test *test_at(const struct suite *s, int k, const struct test *prev)
{
	if (ordered_ok)
		return k < s->selected ? ordered[s->first + k] : NULL;
	return next_test(s->name, k ? prev : NULL);
}

/* Runs the selected tests of s as KTAP subtest sn; returns its verdict.
 * The last suite prints the summary before its result line: the run's
 * last result ends the KTAP stream. */
static enum verdict run_suite(const struct suite *s, int sn, bool last, struct test_env *env)
{
	enum verdict sv = SKIP;
	u64 t0 = rdtsc_ordered(), io[IO_KINDS];
	int tn = 0;

	memcpy(io, io_counts, sizeof(io));
	summary_begin_row(s->name);
	ktap_suite_begin(s->name, s->selected);
	for (const struct test *t = test_at(s, 0, NULL); t; t = test_at(s, tn, t)) {
		enum verdict v;

		test_poll(TEST_POLL_BETWEEN);
		if (verbose)
			diag("running %s.%s", t->suite, t->name);
		summary_test_begin(t->suite, t->name);
		v = watchdog_run(t->fn, env);
		summary_count(v);
		sv = verdict_merge(sv, v);
		ktap_test_result(++tn, t->suite, t->name, v);
	}
	ktap_suite_close();
	for (int k = 0; k < IO_KINDS; k++)
		io[k] = io_counts[k] - io[k];
	summary_end_row(tsc_to_ns(rdtsc_ordered() - t0) / 1000000, io);
	if (last)
		summary_print();
	ktap_suite_end(sn, s->name, sv);
	return sv;
}

int runner_run(struct test_env *env)
{
	enum verdict overall = SKIP;
	int sn = 0;

	for (int i = 0; i < nsuites; i++)
		if (suites[i].selected) {
			sn++;
			overall = verdict_merge(overall, run_suite(&suites[i], sn,
								   sn == nselected_suites, env));
		}
	/* No suite selected: the empty plan 1..0, and the summary after it. */
	if (!nselected_suites)
		summary_print();
	if (overall == ERROR)
		return EXIT_ERROR;
	return overall == FAIL ? EXIT_FAIL : EXIT_PASS;
}

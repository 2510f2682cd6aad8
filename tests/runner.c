/* The test runner: selection, KTAP output, watchdog, summary, verdict. */
#include "test.h"
#include "arch-x86/cpu.h"
#include "arch-x86/delay.h"
#include "arch-x86/idt.h"
#include "arch-x86/lapic.h"
#include "arch-x86/platform.h"
#include "drivers/lapic_timer.h"
#include "lib/cmdline.h"
#include "lib/console.h"
#include "lib/stats.h"
#include "lib/str.h"

#define MAX_SUITES	32
#define WATCHDOG_DEFAULT_S 20

extern const struct test __tests_start[], __tests_end[];

/* Suites in report order; others follow in link order. */
static const char *const suite_order[] = {
	"platform", "irq", "tsc", "hpet", "pm", "pit", "rtc", "kvmclock", "lapic", "tscdeadline",
	"drift", "tick", "smp", "monitor",
};

struct suite {
	const char *name;
	int rank;
	int selected;
	int counts[4];		/* by verdict */
	u64 ms;			/* time the suite took */
	char note[120];
};

static struct suite suites[MAX_SUITES];
static int nsuites, nselected_suites;
static const char *indent = "";
static const char *globs;
static bool verbose;
static char reason[160];

/* Watchdog state: a LAPIC-timer oneshot on its own vector. */
static struct jmp_ctx recover;
static volatile bool in_test;
static const char *volatile abort_why;
static u64 deadline, wd_timer_hz, wd_seconds;
static int wd_vector = -1;
static bool wd_paused;

bool test_verbose(void) { return verbose; }

static void vline(const char *prefix, const char *fmt, va_list ap)
{
	kprintf("%s%s", indent, prefix);
	vkprintf(fmt, ap);
	kprintf("\n");
}

void diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline("# ", fmt, ap);
	va_end(ap);
}

static void print_measure(const char *name, s64 value, int decimals, const char *unit)
{
	char num[32];

	kprintf("%s# measure: %s = %s%s%s", indent, name, fx(num, sizeof(num), value, decimals),
		unit && *unit ? " " : "", unit ? unit : "");
}

void measure(const char *name, s64 value, int decimals, const char *unit)
{
	print_measure(name, value, decimals, unit);
	kprintf("\n");
}

void measure_x(const char *name, s64 value, int decimals, const char *unit, const char *fmt, ...)
{
	va_list ap;

	print_measure(name, value, decimals, unit);
	kprintf(" (");
	va_start(ap, fmt);
	vkprintf(fmt, ap);
	va_end(ap);
	kprintf(")\n");
}

void measure_percentiles(const char *prefix, const struct summary *s, const char *unit)
{
	const char *names[] = { "min", "p50", "p99", "max" };
	u64 values[] = { s->min, s->p50, s->p99, s->max };
	char m[96];

	for (int i = 0; i < 4; i++) {
		snprintf_(m, sizeof(m), "%s.%s", prefix, names[i]);
		measure(m, (s64)values[i], 0, unit);
	}
}

enum verdict check_within(const char *name, s64 value, s64 expected, s64 tol,
			  int decimals, const char *unit)
{
	char e[32], t[32], d[32];
	s64 diff = value - expected;

	measure_x(name, value, decimals, unit, "expected %s, tol %s", fx(e, sizeof(e), expected, decimals),
		  fx(t, sizeof(t), tol, decimals));
	if (diff <= tol && diff >= -tol)
		return PASS;
	return fail("%s is off by %s %s (tolerance %s)", name, fx(d, sizeof(d), diff, decimals),
		    unit ? unit : "", t);
}

static enum verdict vreason(enum verdict v, const char *tag, const char *fmt, va_list ap)
{
	vsnprintf_(reason, sizeof(reason), fmt, ap);
	if (tag)
		kprintf("%s# %s: %s\n", indent, tag, reason);
	return v;
}

enum verdict skip(const char *fmt, ...)
{
	va_list ap;
	enum verdict v;

	va_start(ap, fmt);
	v = vreason(SKIP, NULL, fmt, ap);
	va_end(ap);
	return v;
}

enum verdict fail(const char *fmt, ...)
{
	va_list ap;
	enum verdict v;

	va_start(ap, fmt);
	v = vreason(FAIL, "FAIL", fmt, ap);
	va_end(ap);
	return v;
}

enum verdict error(const char *fmt, ...)
{
	va_list ap;
	enum verdict v;

	va_start(ap, fmt);
	v = vreason(ERROR, NULL, fmt, ap);
	va_end(ap);
	return v;
}

enum verdict verdict_merge(enum verdict a, enum verdict b)
{
	static const int weight[] = { [SKIP] = 0, [PASS] = 1, [FAIL] = 2, [ERROR] = 3 };

	return weight[a] >= weight[b] ? a : b;
}

static struct suite *current;

void summary_note(const char *fmt, ...)
{
	va_list ap;

	if (!current)
		return;
	size_t len = strlen(current->note);

	if (len && len + 2 < sizeof(current->note)) {
		memcpy(current->note + len, "; ", 3);
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf_(current->note + len, sizeof(current->note) - len, fmt, ap);
	va_end(ap);
}

/* ---- watchdog ---- */

static void wd_arm(void)
{
	u64 count;

	if (wd_vector < 0 || wd_paused)
		return;
	count = wd_timer_hz * wd_seconds;
	if (count > 0xFFFFFFFF)
		count = 0xFFFFFFFF;	/* fires early; the handler re-arms */
	lapic_timer_start(LAPIC_TIMER_DIV128, LVT_TIMER_ONESHOT, (u8)wd_vector, (u32)count);
}

static void wd_disarm(void)
{
	if (wd_vector < 0)
		return;
	lapic_timer_stop();
}

void watchdog_pause(void)
{
	wd_disarm();
	wd_paused = true;
}

void watchdog_resume(void)
{
	wd_paused = false;
	if (in_test)
		wd_arm();
}

static void wd_irq(struct int_frame *f, void *ctx)
{
	(void)f;
	(void)ctx;
	if (!in_test)
		return;
	if (rdtsc() < deadline) {
		wd_arm();
		return;
	}
	abort_why = "watchdog";
	in_test = false;
	lapic_eoi();	/* we never return to the dispatcher that would */
	ctx_restore(&recover, 1);
}

static void exc_hook(struct int_frame *f)
{
	static char why[64];

	if (!in_test)
		return;
	snprintf_(why, sizeof(why), "CPU exception %lu at rip 0x%lx", f->vector, f->rip);
	abort_why = why;
	in_test = false;
	ctx_restore(&recover, 1);
}

static void wd_setup(struct test_env *env)
{
	wd_seconds = cmdline_u64(env->cmd, "watchdog", 1, 600, WATCHDOG_DEFAULT_S);
	exception_set_hook(exc_hook);
	if (lapic_mode() == LAPIC_OFF)
		return;
	/* Rate of the LAPIC timer at divide-by-128, over 10 ms of TSC. */
	wd_timer_hz = (u64)lapic_timer_count_for(LAPIC_TIMER_DIV128, 10000) * 100;
	if (wd_timer_hz == 0)
		return;
	wd_vector = irq_alloc(wd_irq, NULL);
}

/* ---- selection ---- */

static bool selected(const struct test *t)
{
	char full[96];
	const char *p = globs;

	if (!p)
		return !t->explicit_only;
	snprintf_(full, sizeof(full), "%s.%s", t->suite, t->name);
	while (*p) {
		char pat[96];
		size_t n = 0;

		while (p[n] && p[n] != ',')
			n++;
		if (n && n < sizeof(pat)) {
			memcpy(pat, p, n);
			pat[n] = 0;
			if (glob_match(pat, full) || glob_match(pat, t->suite))
				return true;
		}
		p += n + (p[n] == ',');
	}
	return false;
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

void runner_begin(struct test_env *env)
{
	globs = cmdline_get(env->cmd, "test");
	/* monitor=SECONDS runs monitor mode alone unless test= says more. */
	if (!globs && cmdline_get(env->cmd, "monitor"))
		globs = "monitor.*";
	verbose = cmdline_has(env->cmd, "verbose");
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
	for (int i = 0; i < nsuites; i++)
		nselected_suites += suites[i].selected > 0;
	/* A newline first: firmware may have left a partial line (GRUB
	 * leaves terminal escapes) and the header must start a line. */
	kprintf("\nKTAP version 1\n1..%d\n", nselected_suites);
	wd_setup(env);
}

static enum verdict run_one(const struct test *t, struct test_env *env)
{
	enum verdict v;

	reason[0] = 0;
	abort_why = NULL;
	deadline = rdtsc() + tsc_hz() * wd_seconds;
	if (ctx_save(&recover)) {
		/* Back from the watchdog or an exception handler. */
		irq_enable();
		if (!strcmp((const char *)abort_why, "watchdog"))
			snprintf_(reason, sizeof(reason), "watchdog: still running after %lu s", wd_seconds);
		else
			snprintf_(reason, sizeof(reason), "%s", (const char *)abort_why);
		wd_disarm();
		wd_paused = false;
		return ERROR;
	}
	in_test = true;
	wd_arm();
	irq_enable();
	v = t->fn(env);
	in_test = false;
	wd_disarm();
	wd_paused = false;
	return v;
}

/* Declaration order within a file (__COUNTER__), then address. */
static bool before(const struct test *a, const struct test *b)
{
	return a->order < b->order || (a->order == b->order && a < b);
}

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

static void print_summary(void)
{
	static const char *const names[] = { "PASS", "SKIP", "FAIL", "ERROR" };
	int total[4] = { 0 };

	kprintf("# ---- tickscope summary ----\n");
	kprintf("# %-10s %-6s %5s %5s %5s %5s %7s  %s\n", "source", "result", "pass", "fail", "skip",
		"error", "ms", "notes");
	for (int i = 0; i < nsuites; i++) {
		struct suite *s = &suites[i];
		enum verdict v = SKIP;

		if (!s->selected)
			continue;
		for (int k = 0; k < 4; k++) {
			total[k] += s->counts[k];
			if (s->counts[k])
				v = verdict_merge(v, (enum verdict)k);
		}
		kprintf("# %-10s %-6s %5d %5d %5d %5d %7lu  %s\n", s->name, names[v], s->counts[PASS],
			s->counts[FAIL], s->counts[SKIP], s->counts[ERROR], s->ms, s->note);
	}
	kprintf("# totals: %d passed, %d failed, %d skipped, %d errors\n", total[PASS], total[FAIL],
		total[SKIP], total[ERROR]);
	for (int i = 0; i < nsuites; i++)
		if (suites[i].selected)
			kprintf("# measure: run.suite_ms.%s = %lu ms\n", suites[i].name, suites[i].ms);
}

int runner_run(struct test_env *env)
{
	enum verdict overall = SKIP;
	int sn = 0;

	for (int i = 0; i < nsuites; i++) {
		struct suite *s = &suites[i];
		enum verdict sv = SKIP;
		int tn = 0;

		if (!s->selected)
			continue;
		u64 t0 = rdtsc_ordered();

		current = s;
		indent = "    ";
		kprintf("    KTAP version 1\n    # Subtest: %s\n    1..%d\n", s->name, s->selected);
		for (const struct test *t = next_test(s->name, NULL); t; t = next_test(s->name, t)) {
			enum verdict v;

			if (verbose)
				diag("running %s.%s", t->suite, t->name);
			v = run_one(t, env);
			s->counts[v]++;
			sv = verdict_merge(sv, v);
			tn++;
			if (v == PASS)
				kprintf("    ok %d %s\n", tn, t->name);
			else if (v == SKIP)
				kprintf("    ok %d %s # SKIP %s\n", tn, t->name, reason);
			else if (v == FAIL)
				kprintf("    not ok %d %s\n", tn, t->name);
			else
				kprintf("    not ok %d %s # ERROR %s\n", tn, t->name, reason);
		}
		indent = "";
		current = NULL;
		sn++;
		s->ms = tsc_to_ns(rdtsc_ordered() - t0) / 1000000;
		if (sv == SKIP)
			kprintf("ok %d %s # SKIP all tests skipped\n", sn, s->name);
		else
			kprintf("%s %d %s\n", sv == PASS ? "ok" : "not ok", sn, s->name);
		overall = verdict_merge(overall, sv);
	}
	print_summary();
	if (overall == ERROR)
		return EXIT_ERROR;
	return overall == FAIL ? EXIT_FAIL : EXIT_PASS;
}

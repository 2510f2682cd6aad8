/* Prints the KTAP v1 stream: plans, result lines, diagnostics and
 * measurement lines in their one fixed shape. It must not decide what runs
 * or judge a device: callers pass the verdicts and numbers in. */
#include "ktap.h"
#include "lib/console.h"
#include "lib/stats.h"

static const char *indent = "";
static char reason[160];

/* The nesting level's indent, shared with the console for the lines that
 * code below the report prints on its own. */
static void set_indent(const char *s)
{
	indent = s;
	console_set_indent(s);
}

void ktap_begin(int nsuites)
{
	/* A newline first: firmware may have left a partial line (GRUB
	 * leaves terminal escapes) and the header must start a line. */
	kprintf("\nKTAP version 1\n1..%d\n", nsuites);
}

void ktap_suite_begin(const char *suite, int ntests)
{
	set_indent("    ");
	kprintf("%sKTAP version 1\n%s# Subtest: %s\n%s1..%d\n", indent, indent, suite, indent,
		ntests);
}

void ktap_test_result(int n, const char *suite, const char *name, enum verdict v)
{
	/* A SKIP or ERROR directive always says why (ktap.rst: the reason
	 * follows the directive). */
	const char *why = reason[0] ? reason : "no reason given";

	if (v == PASS)
		kprintf("%sok %d %s.%s\n", indent, n, suite, name);
	else if (v == SKIP)
		kprintf("%sok %d %s.%s # SKIP %s\n", indent, n, suite, name, why);
	else if (v == FAIL)
		kprintf("%snot ok %d %s.%s\n", indent, n, suite, name);
	else
		kprintf("%snot ok %d %s.%s # ERROR %s\n", indent, n, suite, name, why);
}

void ktap_suite_close(void)
{
	set_indent("");
}

void ktap_suite_end(int n, const char *suite, enum verdict v)
{
	set_indent("");
	if (v == SKIP)
		kprintf("ok %d %s # SKIP all tests skipped\n", n, suite);
	else
		kprintf("%s %d %s\n", v == PASS ? "ok" : "not ok", n, suite);
}

const char *ktap_reason(void)
{
	return reason;
}

void ktap_clear_reason(void)
{
	reason[0] = 0;
}

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

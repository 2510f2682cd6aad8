/* Prints the KTAP v1 stream: plans, result lines, diagnostics and
 * measurement lines in their one fixed shape. It must not decide what runs
 * or judge a device: callers pass the verdicts and numbers in. */
#include "ktap.h"
#include "lib/console.h"
#include "lib/offload.h"
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

/*
 * One diagnostic or measurement line, built whole and written at once.
 * The bytes are those of the kprintf calls it replaced (each part cut at
 * 511 bytes as kprintf cuts): where the kernel's instructions are
 * interpreted (kvm_pvm) each kprintf cost a trip to CPL 3 to format and a
 * pass through the UART driver, so a line in one piece costs a third.
 */
struct line_job {
	char buf[4 * KPRINTF_MAX];
	size_t len;
	const char *prefix;	/* diag: "# " */
	const char *name;	/* measure: its name, value, decimals, unit */
	s64 value;
	int decimals;
	const char *unit;
	const char *fmt;	/* the text after it, or NULL */
	va_list ap;
};

/* Appends what one kprintf of the same would print: at most 511 bytes. */
static void part(struct line_job *j, int n)
{
	j->len += (size_t)MIN(MAX(n, 0), KPRINTF_MAX - 1);
}

static u64 build_line(void *arg)
{
	struct line_job *j = arg;
	char num[32];

	j->len = 0;
	if (j->name)
		part(j, snprintf_(j->buf, KPRINTF_MAX, "%s# measure: %s = %s%s%s", indent, j->name,
				  fx(num, sizeof(num), j->value, j->decimals),
				  j->unit && *j->unit ? " " : "", j->unit ? j->unit : ""));
	else
		part(j, snprintf_(j->buf, KPRINTF_MAX, "%s%s", indent, j->prefix));
	if (j->fmt) {
		if (j->name)
			part(j, snprintf_(j->buf + j->len, KPRINTF_MAX, " ("));
		part(j, vsnprintf_(j->buf + j->len, KPRINTF_MAX, j->fmt, j->ap));
	}
	part(j, snprintf_(j->buf + j->len, KPRINTF_MAX, j->fmt && j->name ? ")\n" : "\n"));
	return 0;
}

static void write_line(struct line_job *j)
{
	offload(build_line, j);
	console_write(j->buf, j->len);
}

static void vline(const char *prefix, const char *fmt, va_list ap)
{
	struct line_job j = { .prefix = prefix, .fmt = fmt };

	va_copy(j.ap, ap);
	write_line(&j);
	va_end(j.ap);
}

void diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline("# ", fmt, ap);
	va_end(ap);
}

void measure(const char *name, s64 value, int decimals, const char *unit)
{
	struct line_job j = { .name = name, .value = value, .decimals = decimals, .unit = unit };

	write_line(&j);
}

void measure_x(const char *name, s64 value, int decimals, const char *unit, const char *fmt, ...)
{
	struct line_job j = { .name = name, .value = value, .decimals = decimals, .unit = unit,
			      .fmt = fmt };

	va_start(j.ap, fmt);
	write_line(&j);
	va_end(j.ap);
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

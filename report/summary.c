/* Keeps one row per suite and prints the summary table at the end of a
 * run. It must not run tests or choose verdicts: the runner counts each
 * verdict into the open row, and tests add notes. */
#include "summary.h"
#include "dashboard.h"
#include "arch-x86/cpu.h"
#include "lib/console.h"
#include "lib/str.h"

#define MAX_REASONS	8

struct row {
	const char *name;
	int counts[4];		/* by verdict */
	u64 ms;			/* time the suite took */
	char note[160];		/* a device row carries five tests' notes */
};

static struct row rows[SUMMARY_MAX_ROWS];
static int nrows;
static struct row *current;
static const char *test_suite, *test_name;
/* "suite.test: reason" of each FAIL and ERROR, for the screen. */
static struct { char text[160]; enum verdict v; } reasons[MAX_REASONS];
static int nreasons;

void summary_test_begin(const char *suite, const char *name)
{
	test_suite = suite;
	test_name = name;
	dashboard_test_begin(suite, name);
}

void summary_begin_row(const char *suite)
{
	current = nrows < SUMMARY_MAX_ROWS ? &rows[nrows++] : NULL;
	if (current)
		*current = (struct row){ .name = suite };
}

void summary_count(enum verdict v)
{
	if (current)
		current->counts[v]++;
	dashboard_test_end(v);
	if ((v == FAIL || v == ERROR) && nreasons < MAX_REASONS && test_name) {
		snprintf_(reasons[nreasons].text, sizeof(reasons[0].text), "%s %s.%s: %s",
			  v == FAIL ? "FAIL" : "ERROR", test_suite, test_name, ktap_reason());
		reasons[nreasons++].v = v;
	}
}

void summary_end_row(u64 ms, const u64 *io)
{
	char m[64];

	if (current) {
		current->ms = ms;
		snprintf_(m, sizeof(m), "run.suite_ms.%s", current->name);
		measure(m, (s64)ms, 0, "ms");
	}
	if (current && IO_COUNTING) {
		snprintf_(m, sizeof(m), "run.reads.%s", current->name);
		measure_x(m, (s64)(io[IO_PORT] + io[IO_MMIO] + io[IO_MSR]), 0, NULL,
			  "device accesses, each an exit under a hypervisor: port %lu, mmio %lu, "
			  "msr %lu; console output %lu of them", io[IO_PORT], io[IO_MMIO],
			  io[IO_MSR], io[IO_CONSOLE]);
	}
	current = NULL;
}

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

/* The width of the source column: the longest suite name, at least the
 * heading's. */
static int source_width(void)
{
	int w = (int)strlen("source");

	for (int i = 0; i < nrows; i++)
		if ((int)strlen(rows[i].name) > w)
			w = (int)strlen(rows[i].name);
	return w;
}

void summary_print(void)
{
	static const char *const names[] = { "PASS", "SKIP", "FAIL", "ERROR" };
	int total[4] = { 0 };
	enum verdict overall = SKIP;
	int w = source_width();
	char line[232];

	/* Each line is formatted once and sent to serial ("# " first) and to
	 * the screen as it is, so that the two carry the same text; a row
	 * without notes ends at its last number (no trailing spaces). */
	kprintf("# ---- tickscope summary ----\n");
	snprintf_(line, sizeof(line), "%-*s %-6s %5s %5s %5s %5s %7s  %s", w, "source", "result",
		  "pass", "fail", "skip", "error", "ms", "notes");
	kprintf("# %s\n", line);
	dashboard_table_heading(line);
	for (int i = 0; i < nrows; i++) {
		struct row *s = &rows[i];
		enum verdict v = SKIP;

		for (int k = 0; k < 4; k++) {
			total[k] += s->counts[k];
			if (s->counts[k])
				v = verdict_merge(v, (enum verdict)k);
		}
		overall = verdict_merge(overall, v);
		snprintf_(line, sizeof(line), "%-*s %-6s %5d %5d %5d %5d %7lu%s%s", w, s->name,
			  names[v], s->counts[PASS], s->counts[FAIL], s->counts[SKIP],
			  s->counts[ERROR], s->ms, s->note[0] ? "  " : "", s->note);
		kprintf("# %s\n", line);
		dashboard_table_row(line, v);
	}
	snprintf_(line, sizeof(line), "totals: %d passed, %d failed, %d skipped, %d errors",
		  total[PASS], total[FAIL], total[SKIP], total[ERROR]);
	kprintf("# %s\n", line);
	dashboard_table_totals(line, overall);
	for (int i = 0; i < nreasons; i++)
		dashboard_reason(reasons[i].text, reasons[i].v);
	dashboard_table_end();
}

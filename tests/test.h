/*
 * In-kernel self-tests. TEST(suite, name) { ... } places a descriptor in
 * the .tests linker section; the runner walks it, groups tests by suite,
 * and prints KTAP v1. A test returns its verdict:
 *   PASS  the device behaved within tolerance
 *   SKIP  the device is absent or disabled (say why with skip())
 *   FAIL  the device or hypervisor misbehaved (say measured vs expected)
 *   ERROR our own code or the environment broke
 */
#ifndef TESTS_TEST_H
#define TESTS_TEST_H

#include "lib/printf.h"

enum verdict { PASS, SKIP, FAIL, ERROR };

struct boot_info;
struct acpi_info;
struct cpu_info;
struct cmdline;

/* What every test may look at: the machine as the boot code found it. */
struct test_env {
	const struct boot_info *boot;
	const struct acpi_info *acpi;
	const struct cpu_info *cpu;
	struct cmdline *cmd;
	bool acpi_ok;		/* ACPI tables were found */
	int nioapics;		/* IOAPICs usable (0 without a MADT) */
};

struct test {
	const char *suite;
	const char *name;
	enum verdict (*fn)(struct test_env *env);
	bool explicit_only;	/* runs only when test= names it */
	int order;		/* tests of a suite run in declaration order */
};

#define TEST_DECLARE(suite_, name_, explicit_)					\
	static enum verdict test_##suite_##_##name_(struct test_env *env);	\
	static const struct test desc_##suite_##_##name_			\
	__attribute__((used, section(".tests"), aligned(8))) = {		\
		#suite_, #name_, test_##suite_##_##name_, explicit_, __COUNTER__ };		\
	static enum verdict test_##suite_##_##name_(struct test_env *env __attribute__((unused)))

/* A test run by default. */
#define TEST(suite, name) TEST_DECLARE(suite, name, false)
/* A test of tickscope itself (e.g. that a fault is caught), run only when
 * the command line's test= names it. */
#define TEST_EXPLICIT(suite, name) TEST_DECLARE(suite, name, true)

/* A diagnostic line ("# ..."), indented at the current KTAP level. */
void diag(const char *fmt, ...) PRINTF_FMT(1, 2);
/* "# measure: name = value unit"; value is fixed-point with `decimals`
 * digits after the point (value 12345, decimals 3 prints 12.345). */
void measure(const char *name, s64 value, int decimals, const char *unit);
/* As measure, followed by "(expected E, err X ppm|%, tol T ...)" built by
 * the caller in extra (printf-style). */
void measure_x(const char *name, s64 value, int decimals, const char *unit,
	       const char *extra_fmt, ...) PRINTF_FMT(5, 6);
/*
 * Compares value against expected ± tol (all with `decimals`), prints the
 * measure line with expected and tolerance, and returns PASS or FAIL (with
 * a diagnostic saying by how much it missed).
 */
enum verdict check_within(const char *name, s64 value, s64 expected, s64 tol,
			  int decimals, const char *unit);
struct summary;
/* prefix.min, prefix.p50, prefix.p99 and prefix.max from s, in unit. */
void measure_percentiles(const char *prefix, const struct summary *s, const char *unit);
/* Record why, print it, return the verdict. */
enum verdict skip(const char *fmt, ...) PRINTF_FMT(1, 2);
enum verdict fail(const char *fmt, ...) PRINTF_FMT(1, 2);
enum verdict error(const char *fmt, ...) PRINTF_FMT(1, 2);
/* The combination of two verdicts: ERROR > FAIL > PASS > SKIP. */
enum verdict verdict_merge(enum verdict a, enum verdict b);
/* A short note for this suite's row in the summary table; notes of
 * several tests are joined with "; ". */
void summary_note(const char *fmt, ...) PRINTF_FMT(1, 2);

/* Run control: a test that uses the LAPIC timer itself stops the watchdog
 * for the duration and restarts it after; while it is paused, the test's
 * own bounded waits are what end it. */
void watchdog_pause(void);
void watchdog_resume(void);
/* True when verbose was given on the command line. */
bool test_verbose(void);

/* Runner entry points (boot/main.c). */
/* Prints the KTAP header and the plan for the selected suites. */
void runner_begin(struct test_env *env);
/* Runs every selected test and prints the summary; returns the exit code
 * (see arch-x86/platform.h). */
int runner_run(struct test_env *env);

#endif

/*
 * In-kernel self-tests. TEST(suite, name) { ... } places a descriptor in
 * the .tests linker section; the runner walks it, groups tests by suite,
 * and the report (report/ktap.h, report/summary.h, included here) prints
 * KTAP v1. A test returns its verdict: PASS, SKIP, FAIL or ERROR, with the
 * meanings report/ktap.h gives them, and prints through diag(), measure()
 * and friends.
 */
#ifndef TESTS_TEST_H
#define TESTS_TEST_H

#include "report/ktap.h"
#include "report/summary.h"

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
	u64 sources_init_ms;	/* probing and calibrating the sources at boot */
	u64 high_ram;		/* a usable RAM page above 4 GiB, 0 when none */
	/* Where the time before the first test went (boot/main.c): the TSC
	 * at kernel entry and at the KTAP header, and the device accesses
	 * made until then (counting build only, arch-x86/cpu.h). */
	u64 entry_tsc, header_tsc, header_io;
};

struct test {
	const char *suite;
	const char *name;
	enum verdict (*fn)(struct test_env *env);
	bool explicit_only;	/* runs only when test= names it */
	int order;		/* tests of a suite run in declaration order */
};

/* Tests of a suite run in the order of their `order`: __COUNTER__, so
 * declaration order within a file. A file that continues a suite begun in
 * another defines TEST_ORDER_BASE, before any include, above the counts
 * of the files it follows (see smp_tick_test.c). */
#ifndef TEST_ORDER_BASE
#define TEST_ORDER_BASE 0
#endif

#define TEST_DECLARE(suite_, name_, explicit_)					\
	static enum verdict test_##suite_##_##name_(struct test_env *env);	\
	static const struct test desc_##suite_##_##name_			\
	__attribute__((used, section(".tests"), aligned(8))) = {		\
		#suite_, #name_, test_##suite_##_##name_, explicit_,		\
		TEST_ORDER_BASE + __COUNTER__ };				\
	static enum verdict test_##suite_##_##name_(struct test_env *env __attribute__((unused)))

/* A test run by default. */
#define TEST(suite, name) TEST_DECLARE(suite, name, false)
/* A test of tickscope itself (e.g. that a fault is caught), run only when
 * the command line's test= names it. */
#define TEST_EXPLICIT(suite, name) TEST_DECLARE(suite, name, true)

/* Run control (tests/watchdog.c): a test that uses the LAPIC timer itself
 * stops the watchdog for the duration and restarts it after; while it is
 * paused, the test's own bounded waits are what end it. */
void watchdog_pause(void);
void watchdog_resume(void);
/* True when verbose was given on the command line. */
bool test_verbose(void);
/* True when the test suite.name is selected to run in this run. */
bool test_selected(const char *suite, const char *name);
/*
 * Work a test left for later in the run that must be polled for (the RTC
 * second edge tick.walltime still needs after the clockevent windows,
 * tests/clockevent_test.c): test_poll_set(fn) sets it, NULL clears it.
 * test_poll(how) calls it: TEST_POLL_LOOP on a turn of a test's own
 * waiting loop (it must not block), TEST_POLL_BETWEEN between two tests
 * (it may wait a little), TEST_POLL_NOW where it is needed now (it ends
 * it, waiting as needed). test_poll_pending says whether any is left.
 */
enum test_poll_how { TEST_POLL_LOOP, TEST_POLL_BETWEEN, TEST_POLL_NOW };
void test_poll_set(void (*fn)(enum test_poll_how how));
void test_poll(enum test_poll_how how);
bool test_poll_pending(void);
/*
 * True when `what` is in the command line's plant= list: the calling test
 * then plants that fault (a self-test: its check must FAIL) and this says
 * so in a diagnostic, with `how` describing the fault.
 */
bool test_planted(struct test_env *env, const char *what, const char *how);

/* Runner entry points (boot/main.c). */
/* Prints the KTAP header and the plan for the selected suites. */
void runner_begin(struct test_env *env);
/* Runs every selected test and prints the summary; returns the exit code
 * (see arch-x86/platform.h). */
int runner_run(struct test_env *env);

#endif

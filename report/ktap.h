/*
 * The KTAP version 1 stream (Linux Documentation/dev-tools/ktap.rst): the
 * header and plans, one result line per test and per suite, and the
 * diagnostic and measurement lines tests print, indented at the current
 * nesting level. Each suite is a nested test: "KTAP version 1", then
 * "# Subtest: name" and its plan (as KUnit prints them), its tests' lines
 * indented four spaces (KUnit's and TAP 14's indent; ktap.rst suggests two,
 * which TAP 14 parsers do not take for a subtest), then the suite's own
 * diagnostics unindented directly before its result line. A test's result
 * line carries its full dotted name (suite.test), so that the name stays
 * unique where a consumer flattens the tree. The four verdicts and the
 * reason given with the last one are kept here.
 *   PASS  the device behaved within tolerance
 *   SKIP  the device is absent or disabled (say why with skip())
 *   FAIL  the device or hypervisor misbehaved (say measured vs expected)
 *   ERROR our own code or the environment broke
 */
#ifndef REPORT_KTAP_H
#define REPORT_KTAP_H

#include "lib/printf.h"

enum verdict { PASS, SKIP, FAIL, ERROR };

/* "KTAP version 1" and the plan "1..nsuites", on a fresh line. */
void ktap_begin(int nsuites);
/* A suite's nested header and plan; the lines that follow are indented. */
void ktap_suite_begin(const char *suite, int ntests);
/* Test n's result line, "ok n suite.name"; SKIP and ERROR carry the reason
 * last recorded. */
void ktap_test_result(int n, const char *suite, const char *name, enum verdict v);
/* Ends the suite's indentation: what prints next (the suite's own
 * diagnostics) stands directly before its result line. */
void ktap_suite_close(void);
/* The suite's own result line (after ktap_suite_close). */
void ktap_suite_end(int n, const char *suite, enum verdict v);
/* The reason recorded with the last skip(), fail() or error(), or "". */
const char *ktap_reason(void);
/* Forgets the recorded reason; called before each test. */
void ktap_clear_reason(void);

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
/* Record why and return the verdict. fail() also prints "# FAIL: why";
 * the reason of a SKIP or ERROR goes on the test's result line. */
enum verdict skip(const char *fmt, ...) PRINTF_FMT(1, 2);
enum verdict fail(const char *fmt, ...) PRINTF_FMT(1, 2);
enum verdict error(const char *fmt, ...) PRINTF_FMT(1, 2);
/* The combination of two verdicts: ERROR > FAIL > PASS > SKIP. */
enum verdict verdict_merge(enum verdict a, enum verdict b);

#endif

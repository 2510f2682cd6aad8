/*
 * The human summary: one row per suite (verdict, counts by verdict,
 * milliseconds, notes) and the totals, printed as diagnostic lines
 * directly before the last suite's result line, so that a KTAP parser that
 * stops at the last result (kunit_parser) still reads them; and each
 * suite's time as a run.suite_ms.<suite> measurement before its own result.
 */
#ifndef REPORT_SUMMARY_H
#define REPORT_SUMMARY_H

#include "ktap.h"

#define SUMMARY_MAX_ROWS	32

/* Opens the row of suite (rows print in the order they are opened); until
 * summary_end_row, notes and verdicts go to it. */
void summary_begin_row(const char *suite);
/* Test suite.name is about to run (for the screen's progress and the
 * reasons of failures). */
void summary_test_begin(const char *suite, const char *name);
/* Counts one test's verdict in the open row. */
void summary_count(enum verdict v);
/* Closes the open row with the time its suite took and prints that as
 * the measurement run.suite_ms.<suite>, and in the counting build
 * (arch-x86/cpu.h) the device accesses it made, io[IO_KINDS] by kind, as
 * run.reads.<suite> (call it after ktap_suite_close,
 * so that the line stands directly before the suite's result line). */
void summary_end_row(u64 ms, const u64 *io);
/* A short note for the open row; notes of several tests are joined with
 * "; ". Ignored when no row is open. */
void summary_note(const char *fmt, ...) PRINTF_FMT(1, 2);
/* Prints the table and the totals line, and shows the table and the
 * FAIL/ERROR reasons on the dashboard. */
void summary_print(void);

#endif

/*
 * The human summary printed before the KTAP stream ends: one row per
 * suite (verdict, counts by verdict, milliseconds, notes), the totals,
 * and each suite's time and (in the counting build, arch-x86/cpu.h) device
 * accesses as run.suite_ms.<suite> and run.reads.<suite> measurements.
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
/* Closes the open row with the time its suite took and the device
 * accesses it made (io[IO_KINDS], by kind as arch-x86/cpu.h counts them). */
void summary_end_row(u64 ms, const u64 *io);
/* A short note for the open row; notes of several tests are joined with
 * "; ". Ignored when no row is open. */
void summary_note(const char *fmt, ...) PRINTF_FMT(1, 2);
/* Prints the table, the totals line, the run.suite_ms.* and run.reads.*
 * measurements,
 * and shows the table and the FAIL/ERROR reasons on the dashboard. */
void summary_print(void);

#endif

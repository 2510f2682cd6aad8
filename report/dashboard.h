/*
 * The screen dashboard: what a person at the machine sees while the serial
 * stream carries the full record. A header (CPU, firmware, hypervisor,
 * ACPI tables, consoles), live progress (current test, n of N, elapsed),
 * then the summary table, row for row the text of the serial summary
 * (without its "# "), cut to the screen's width, coloured by verdict,
 * with the FAIL and ERROR reasons below. Every call does nothing when no
 * screen was given, so callers need not check.
 */
#ifndef REPORT_DASHBOARD_H
#define REPORT_DASHBOARD_H

#include "ktap.h"
#include "lib/screen.h"

#define DASH_HEADER_LINES	4

/* Starts drawing on s (kept by pointer; NULL: no screen) and clears it. */
void dashboard_init(const struct screen *s);
/* Header line n (0..DASH_HEADER_LINES-1); line 0 is the title bar. */
void dashboard_header(int n, const char *fmt, ...) PRINTF_FMT(2, 3);
/* The number of tests the run will execute. */
void dashboard_plan(int ntests);
/* Test suite.name starts / ended with v: the progress line and bar. */
void dashboard_test_begin(const char *suite, const char *name);
void dashboard_test_end(enum verdict v);
/* The summary: the table heading, a row with its verdict, the totals
 * line (the same text as on serial), then one FAIL/ERROR reason line. */
void dashboard_table_heading(const char *text);
void dashboard_table_row(const char *text, enum verdict v);
void dashboard_table_totals(const char *text, enum verdict overall);
void dashboard_reason(const char *text, enum verdict v);
/* After the reasons: where the screen has rows to spare, the notes its
 * width cut off, wrapped (bigger framebuffers show every row in full). */
void dashboard_table_end(void);
/* A status line under everything (how the run ends, "press a key"). */
void dashboard_status(const char *fmt, ...) PRINTF_FMT(1, 2);

#endif

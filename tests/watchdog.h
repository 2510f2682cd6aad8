/*
 * The runner's guard around each test: a LAPIC-timer watchdog and the
 * CPU-exception hook. Either abandons the test (its frames are dropped)
 * and the run goes on with an ERROR for it. Tests themselves only pause
 * and resume the watchdog (test.h).
 */
#ifndef TESTS_WATCHDOG_H
#define TESTS_WATCHDOG_H

#include "test.h"

/* Reads watchdog= (seconds, default 20), installs the exception hook and
 * measures the LAPIC timer's rate for the watchdog; without a LAPIC only
 * exceptions are caught. */
void watchdog_setup(struct test_env *env);
/* Runs fn(env) with the watchdog armed and returns its verdict, or ERROR
 * (with the reason recorded for the result line) when it faulted or ran
 * past the limit. */
enum verdict watchdog_run(enum verdict (*fn)(struct test_env *env), struct test_env *env);

#endif

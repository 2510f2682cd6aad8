/* What the SMP test files share: skipping on one CPU, and running a
 * function on every CPU with a bounded wait. */
#ifndef TESTS_SMP_TEST_H
#define TESTS_SMP_TEST_H

#include "test.h"

#define WORK_TIMEOUT_US		2000000	/* an AP's share of a test */

/* PASS when at least two CPUs are online, else the SKIP to return. */
enum verdict need_smp(void);
/* Runs fn(arg) on every AP, and on this CPU too when self; waits for all
 * (WORK_TIMEOUT_US each). Returns false when one did not finish. */
bool on_all(void (*fn)(void *), void *arg, bool self);

#endif

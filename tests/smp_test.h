/* What the SMP test files share: skipping on one CPU, and running a
 * function on every CPU with a bounded wait. */
#ifndef TESTS_SMP_TEST_H
#define TESTS_SMP_TEST_H

#include "test.h"

#define WORK_TIMEOUT_US		2000000	/* an AP's share of a test */
#define BARRIER_TIMEOUT_US	1000000	/* CPUs meeting before a loop */

/* PASS when at least two CPUs are usable, else the SKIP to return (or
 * the ERROR, when the others failed in an earlier test). */
enum verdict need_smp(void);
/* Runs fn(arg) on every usable AP, and on this CPU too when self; waits
 * for all (WORK_TIMEOUT_US each). Returns false when one did not finish
 * (smp_wait has then marked it failed: later tests leave it out). */
bool on_all(void (*fn)(void *), void *arg, bool self);
/* CPUs usable now (smp_cpu_usable), this one included. */
int usable_cpus(void);

#endif

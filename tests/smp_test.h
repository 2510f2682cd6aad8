/* What the SMP test files share: skipping on one CPU, and running a
 * function on every CPU with a bounded wait. */
#ifndef TESTS_SMP_TEST_H
#define TESTS_SMP_TEST_H

#include "test.h"
#include "arch-x86/smp.h"

/* An AP's share of a test, and CPUs meeting before a loop: with many
 * vCPUs on few host cores each runs rarely, so the bounds grow by 10 ms
 * a CPU (288 CPUs under a software KVM met in about 1.5 s). */
#define WORK_TIMEOUT_US		(2000000u + 50000u * (u32)smp_count())
#define BARRIER_TIMEOUT_US	(1000000u + 10000u * (u32)smp_count())

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

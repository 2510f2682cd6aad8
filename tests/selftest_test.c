/* Tests of tickscope itself, run only when named (test=selftest.*): a
 * faulting test and a hanging test must each end as ERROR, with the
 * report going on. They must never run by default (TEST_EXPLICIT). */
#include "test.h"
#include "arch-x86/cpu.h"

TEST_EXPLICIT(selftest, fault)
{
	/* ud2: an invalid opcode; the exception hook must abandon us. */
	__asm__ volatile("ud2");
	return fail("execution continued past ud2");
}

TEST_EXPLICIT(selftest, hang)
{
	/* Spin with interrupts on until the watchdog ends the test. The
	 * loop is bounded (at ~10 minutes) so a broken watchdog is a FAIL,
	 * not a hang of the whole run. */
	u64 end = rdtsc() + 600ull * 4000000000ull;

	while (rdtsc() < end)
		cpu_relax();
	return fail("the watchdog did not stop a test that ran past its limit");
}

TEST_EXPLICIT(selftest, after)
{
	/* Runs after the two above: proves the run went on. */
	diag("the run continued after the abandoned tests");
	return PASS;
}

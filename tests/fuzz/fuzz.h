/* What every fuzz target shares: the libFuzzer entry point and a check
 * that stops the run, so that a broken invariant is a crash the fuzzer
 * saves, like a sanitizer report. */
#ifndef TESTS_FUZZ_FUZZ_H
#define TESTS_FUZZ_FUZZ_H

#include "lib/types.h"

#include <stdio.h>
#include <stdlib.h>

/* Called by libFuzzer (or tests/fuzz/replay.c) with one input. */
int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

#define FUZZ_CHECK(cond)							\
	do {									\
		if (!(cond)) {							\
			fprintf(stderr, "%s:%d: invariant broken: %s\n",	\
				__FILE__, __LINE__, #cond);			\
			abort();						\
		}								\
	} while (0)

/* True when s is terminated within size bytes. */
static inline bool fuzz_terminated(const char *s, size_t size)
{
	for (size_t i = 0; i < size; i++)
		if (!s[i])
			return true;
	return false;
}

#endif

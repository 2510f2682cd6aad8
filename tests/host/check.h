/* A minimal host unit-test harness: CHECK() counts, main() reports.
 * Each test binary ends with "<name>: N passed, N failed". */
#ifndef TESTS_HOST_CHECK_H
#define TESTS_HOST_CHECK_H

#include <stdio.h>
#include <string.h>

static int checks_passed, checks_failed;

#define CHECK(cond)								\
	do {									\
		if (cond) {							\
			checks_passed++;					\
		} else {							\
			checks_failed++;					\
			fprintf(stderr, "%s:%d: CHECK failed: %s\n",		\
				__FILE__, __LINE__, #cond);			\
		}								\
	} while (0)

#define CHECK_STR(got, want)							\
	do {									\
		const char *g_ = (got), *w_ = (want);				\
		if (strcmp(g_, w_) == 0) {					\
			checks_passed++;					\
		} else {							\
			checks_failed++;					\
			fprintf(stderr, "%s:%d: got \"%s\", want \"%s\"\n",	\
				__FILE__, __LINE__, g_, w_);			\
		}								\
	} while (0)

static inline int check_report(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, checks_passed, checks_failed);
	return checks_failed ? 1 : 0;
}

#endif

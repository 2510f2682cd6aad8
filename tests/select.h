/* Which tests a run selects: the command line's test= patterns matched
 * against a test's name, pure string work apart from the registry
 * (tests/runner.c) so that the host can test it (tests/host/test_select.c). */
#ifndef TESTS_SELECT_H
#define TESTS_SELECT_H

#include "lib/types.h"

/*
 * Whether test suite.name is selected by globs, test='s value: a comma-
 * separated list of glob patterns (lib/str.h glob_match: * and ?), each
 * tried against the full name "suite.name" and against the suite alone;
 * empty items and items of 96 bytes or more match nothing. Without test=
 * (globs NULL) every test is selected but an explicit-only one (a test of
 * tickscope itself, run only when test= names it).
 */
bool select_match(const char *globs, const char *suite, const char *name, bool explicit_only);

#endif

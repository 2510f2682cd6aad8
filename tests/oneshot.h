/*
 * Oneshot latency of the clockevents in two waiting modes: polling the TSC
 * and halted (STI;HLT, the handler's first act reads the TSC), with a
 * log2 histogram, percentiles and sample count per mode, and one verdict:
 * never early, never lost, in either mode. Prints
 * <name>.oneshot.{poll,halt}.latency_ns.{min,p50,p99,max},
 * <name>.oneshot.{poll,halt}.samples, <name>.oneshot.poll.step_ns,
 * <name>.oneshot.missed, <name>.oneshot.early, <name>.oneshot.stale and
 * <name>.oneshot.remeasured (samples the host's absences spoiled, taken
 * again: tests/oneshot_sample.h).
 */
#ifndef TESTS_ONESHOT_H
#define TESTS_ONESHOT_H

#include "test.h"

/*
 * Measures the clockevent named name (env: `thorough` for 1024 samples a
 * mode, oneshot_plant= for a planted fault). Returns PASS, SKIP when it is
 * absent or has no oneshot mode, FAIL when an event came early or never,
 * ERROR when events never came while the host was away, after every
 * re-measurement allowed.
 */
enum verdict ce_oneshot(const char *name, struct test_env *env);

/*
 * Takes every oneshot series now, unless they were taken (ce_oneshot and
 * ce_oneshot_concurrent do it first otherwise); idle, when not NULL, is
 * called between the windows' rounds and returns the TSC cycles it took,
 * which each series' time budget is extended by (tests/oneshot_sample.h).
 */
void ce_oneshot_measure(struct test_env *env, u64 (*idle)(void));

/*
 * The devices ce_oneshot measures share windows where their hardware
 * allows (each on its own vector); this checks that their median
 * latencies agree with the same device's measured alone, per waiting mode
 * (<name>.oneshot.{poll,halt}.alone_diff_ns), and says where the tests
 * fell back to measuring alone. SKIP when no device shared a window.
 */
enum verdict ce_oneshot_concurrent(struct test_env *env);

#endif

/* test= selection (tests/select.c) on the host: what the runner selects for
 * a test= value, as the kernel's runner has selected since tests could be
 * named (full names, suites, globs, lists, explicit-only tests). */
#include "tests/host/check.h"
#include "tests/select.c"

static bool sel(const char *globs, const char *suite, const char *name)
{
	return select_match(globs, suite, name, false);
}

int main(void)
{
	char longpat[120];

	/* No test=: every test but an explicit-only one. */
	CHECK(sel(NULL, "tick", "walltime"));
	CHECK(!select_match(NULL, "selftest", "watchdog", true));
	/* test= names an explicit-only test as any other. */
	CHECK(select_match("selftest.*", "selftest", "watchdog", true));
	/* A full name, a suite, globs over either. */
	CHECK(sel("tick.walltime", "tick", "walltime"));
	CHECK(!sel("tick.walltime", "tick", "periodic"));
	CHECK(sel("tick", "tick", "periodic"));
	CHECK(!sel("tic", "tick", "periodic"));
	CHECK(sel("tick.*", "tick", "idle"));
	CHECK(sel("t?ck", "tick", "idle"));
	CHECK(sel("*.present", "rtc", "present"));
	CHECK(!sel("*.present", "rtc", "date"));
	CHECK(sel("tsc.freq*", "tsc", "freq_hpet"));
	CHECK(sel("tsc.freq*", "tsc", "freq"));
	CHECK(!sel("tsc.freq*", "tsc", "read_cost"));
	/* A list: any item; empty items match nothing. */
	CHECK(sel("pm,hyperv.pr*,nosuch", "hyperv", "present"));
	CHECK(sel("pm,hyperv.pr*,nosuch", "pm", "rate"));
	CHECK(!sel("pm,hyperv.pr*,nosuch", "hyperv", "page"));
	CHECK(sel(",,rtc.date,", "rtc", "date"));
	CHECK(!sel(",,", "rtc", "date"));
	CHECK(!sel("", "rtc", "date"));
	/* An item of 96 bytes or more matches nothing; the next still does. */
	memset(longpat, '*', 100);
	longpat[100] = 0;
	CHECK(!sel(longpat, "rtc", "date"));
	strcpy(longpat + 100, ",rtc");
	CHECK(sel(longpat, "rtc", "date"));
	return check_report("test_select");
}

/*
 * The kernel command line: the input is the string the loader gave, cut
 * to what struct boot_info keeps of it (a NUL is added; an embedded NUL
 * ends it as it would in the kernel). Both
 * loader conventions are parsed, then every declared option is read back
 * as the kernel's consumers do, and test= globs are matched.
 */
#include "fuzz.h"
#include "lib/cmdline.h"
#include "boot/multiboot.h"
#include "lib/str.h"

#include <string.h>

#define MAX_KEYS 64

static const char *keys[MAX_KEYS];
static int nkeys;

static void collect(const char *key, const char *help)
{
	(void)help;
	if (nkeys < MAX_KEYS)
		keys[nkeys++] = key;
}

static void check(struct cmdline *cl)
{
	const char *globs;

	FUZZ_CHECK(cl->nwords >= 0 && cl->nwords <= CMDLINE_MAX_WORDS);
	for (int i = 0; i < cl->nwords; i++) {
		FUZZ_CHECK(fuzz_terminated(cl->words[i].key, sizeof(cl->words[i].key)));
		FUZZ_CHECK(fuzz_terminated(cl->words[i].value, sizeof(cl->words[i].value)));
	}
	for (int i = 0; i < nkeys; i++) {
		/* Absent keys need no more lookups: cmdline_u64 returns def. */
		if (!cmdline_get(cl, keys[i]))
			continue;
		FUZZ_CHECK(cmdline_has(cl, keys[i]));
		(void)cmdline_u64(cl, keys[i], 10, 10000, 100);
	}
	(void)cmdline_u64(cl, "tsc_warp", 1, 1ull << 40, 0);
	(void)cmdline_u64(cl, "tsc_hz", 1000000, 100000000000ull, 0);
	cmdline_warn(cl, "a semantic problem found later, as main.c adds them");
	globs = cmdline_get(cl, "test");
	if (globs) {
		(void)glob_match(globs, "tick.periodic");
		(void)glob_match(globs, globs);
	}
	FUZZ_CHECK(cl->nwarnings >= 0 && cl->nwarnings <= CMDLINE_MAX_WARNINGS);
	for (int i = 0; i < cl->nwarnings; i++)
		FUZZ_CHECK(fuzz_terminated(cl->warnings[i], sizeof(cl->warnings[i])));
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static struct cmdline cl;
	char *s;

	size = MIN(size, sizeof(((struct boot_info *)0)->cmdline) - 1);
	s = malloc(size + 1);

	if (!nkeys)
		cmdline_describe(collect);
	memcpy(s, data, size);
	s[size] = 0;
	cmdline_parse(s, false, &cl);
	check(&cl);
	cmdline_parse(s, true, &cl);
	check(&cl);
	free(s);
	return 0;
}

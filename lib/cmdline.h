/*
 * The kernel command line: space-separated `flag` and `key=value` words.
 * Every option is declared in cmdline.c with its kind and meaning; an
 * unknown, malformed or repeated word becomes a warning for the report,
 * never silence.
 */
#ifndef LIB_CMDLINE_H
#define LIB_CMDLINE_H

#include "lib/types.h"

#define CMDLINE_MAX_WORDS	32
#define CMDLINE_MAX_WARNINGS	16

struct cmdline_word {
	char key[24];
	char value[160];
	bool has_value;
	bool bad;	/* a number out of the option's range: reads as absent */
};

struct cmdline {
	struct cmdline_word words[CMDLINE_MAX_WORDS];
	int nwords;
	char warnings[CMDLINE_MAX_WARNINGS][112];
	int nwarnings;
};

/* Splits and checks s. skip_first drops the first word unless it names
 * an option: QEMU's multiboot1 loader puts the kernel's path there, GRUB's
 * `multiboot` does not. Always succeeds; problems are in cl->warnings. */
void cmdline_parse(const char *s, bool skip_first, struct cmdline *cl);
/* The value of key=value, or NULL when absent or refused (a numeric
 * option out of its declared range, already warned about). */
const char *cmdline_get(const struct cmdline *cl, const char *key);
/* The values of every key=value word, in order, at most max of them (for
 * an option that may be repeated, like console=); returns how many. */
int cmdline_get_all(const struct cmdline *cl, const char *key, const char **out, int max);
/* True when the flag (or key) was given. */
bool cmdline_has(const struct cmdline *cl, const char *key);
/* True when key=value was given and item is one of value's
 * comma-separated items (plant=a,b). */
bool cmdline_list_has(const struct cmdline *cl, const char *key, const char *item);
/*
 * The number given as key=N when it lies in [min, max]; otherwise def,
 * adding a warning when the value was given but malformed or out of
 * range (a value outside the option's declared range was warned about
 * when parsed, and reads as absent).
 */
u64 cmdline_u64(struct cmdline *cl, const char *key, u64 min, u64 max, u64 def);
/* Adds a warning (cut to fit); used for semantic problems found later. */
void cmdline_warn(struct cmdline *cl, const char *msg);
/* One line per known option, for the README and `help` on the command line. */
void cmdline_describe(void (*line)(const char *key, const char *help));

#endif

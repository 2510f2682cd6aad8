/* test= selection (see select.h). */
#include "select.h"
#include "lib/printf.h"
#include "lib/str.h"

bool select_match(const char *globs, const char *suite, const char *name, bool explicit_only)
{
	char full[96];
	const char *p = globs;

	if (!p)
		return !explicit_only;
	snprintf_(full, sizeof(full), "%s.%s", suite, name);
	while (*p) {
		char pat[96];
		size_t n = 0;

		while (p[n] && p[n] != ',')
			n++;
		if (n && n < sizeof(pat)) {
			memcpy(pat, p, n);
			pat[n] = 0;
			if (glob_match(pat, full) || glob_match(pat, suite))
				return true;
		}
		p += n + (p[n] == ',');
	}
	return false;
}

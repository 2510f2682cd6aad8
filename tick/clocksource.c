/* The registry of clocksources, why a device is absent, the wrap extender
 * and the stuck-counter probe drivers share. It must not know any
 * particular device. */
#include "clocksource.h"
#include "lib/math.h"
#include "lib/str.h"

struct absent {
	const char *name;
	int rc;
	char why[96];
};

static struct clocksource *sources[CS_MAX];
static int count;
static struct absent absents[2 * CS_MAX];
static int nabsent;

int clocksource_register(struct clocksource *cs)
{
	if (count == CS_MAX || !cs->read || !cs->mask || !cs->freq_hz || !cs->name)
		return -EINVAL;
	sources[count++] = cs;
	return 0;
}

struct clocksource *clocksource_find(const char *name)
{
	for (int i = 0; i < count; i++)
		if (!strcmp(sources[i]->name, name))
			return sources[i];
	return NULL;
}

int clocksource_count(void)
{
	return count;
}

struct clocksource *clocksource_get(int i)
{
	return i >= 0 && i < count ? sources[i] : NULL;
}

struct clocksource *clocksource_best(void)
{
	struct clocksource *best = NULL;

	for (int i = 0; i < count; i++)
		if (!best || sources[i]->rating > best->rating)
			best = sources[i];
	return best;
}

bool clocksource_counts(struct clocksource *cs, u64 *first)
{
	u64 a = cs->read(cs), b = a;

	for (int i = 0; i < CS_PROBE_READS && b == a; i++)
		b = cs->read(cs);
	*first = a;
	return b != a;
}

u64 cs_wrap_ns(const struct clocksource *cs)
{
	if (cs->mask == ~0ull)
		return UINT64_MAX;
	return mul_div_u64(cs->mask + 1, 1000000000ull, cs->freq_hz);
}

void cs_extend_start(struct cs_extender *e, u64 raw)
{
	*e = (struct cs_extender){ .last = raw };
}

u64 cs_extend(struct cs_extender *e, const struct clocksource *cs, u64 raw)
{
	u64 step = (raw - e->last) & cs->mask;

	if (step > cs->mask / 2) {
		e->backwards++;		/* went back: do not count it forward */
		e->back_max = MAX(e->back_max, ((e->last - raw) & cs->mask));
	} else {
		if (raw < e->last)
			e->wraps++;
		e->total += step;
	}
	e->last = raw;
	return e->total;
}

u64 cs_extend_hint(struct cs_extender *e, const struct clocksource *cs, u64 raw, u64 elapsed,
		   u64 slack)
{
	u64 step = (raw - e->last) & cs->mask, range, k;

	if (cs->mask == ~0ull || (elapsed <= cs->mask / 2 && slack <= cs->mask / 2 - elapsed))
		return cs_extend(e, cs, raw);
	range = cs->mask + 1;
	/* Whole wraps beyond the raw step, to land nearest elapsed. */
	k = elapsed > step ? (elapsed - step + range / 2) / range : 0;
	if (k || step > cs->mask / 2)
		e->missed += k ? k : 1;
	e->wraps += k + (raw < e->last);
	e->total += step + k * range;
	e->last = raw;
	return e->total;
}

void tick_absent(const char *name, int rc, const char *why)
{
	int ignored;

	if (nabsent == (int)ARRAY_SIZE(absents) || tick_why(name, &ignored))
		return;
	absents[nabsent].name = name;
	absents[nabsent].rc = rc;
	str_copy(absents[nabsent].why, why, sizeof(absents[0].why));
	nabsent++;
}

const char *tick_why(const char *name, int *rc)
{
	for (int i = 0; i < nabsent; i++)
		if (!strcmp(absents[i].name, name)) {
			*rc = absents[i].rc;
			return absents[i].why;
		}
	return NULL;
}

/* The registry of clockevents and their common interrupt entry. It must
 * not program a device: drivers do, through the callbacks they register. */
#include "clockevent.h"
#include "lib/str.h"

static struct clockevent *devices[CE_MAX];
static int count;

int clockevent_register(struct clockevent *ce)
{
	if (count == CE_MAX || !ce->name || !ce->freq_hz || !ce->shutdown ||
	    ((ce->features & CE_PERIODIC) && !ce->set_periodic) ||
	    ((ce->features & CE_ONESHOT) && !ce->set_next_event))
		return -EINVAL;
	devices[count++] = ce;
	return 0;
}

struct clockevent *clockevent_find(const char *name)
{
	for (int i = 0; i < count; i++)
		if (!strcmp(devices[i]->name, name))
			return devices[i];
	return NULL;
}

int clockevent_count(void)
{
	return count;
}

struct clockevent *clockevent_get(int i)
{
	return i >= 0 && i < count ? devices[i] : NULL;
}

struct clockevent *clockevent_best(u32 features)
{
	struct clockevent *best = NULL;

	for (int i = 0; i < count; i++)
		if ((devices[i]->features & features) == features &&
		    (!best || devices[i]->rating > best->rating))
			best = devices[i];
	return best;
}

int clockevent_program(struct clockevent *ce, u64 delta)
{
	delta = MIN(MAX(delta, ce->min_delta), ce->max_delta);
	for (int i = 0; i < CE_ETIME_TRIES; i++) {
		if (ce->set_next_event(ce, delta) != -ETIME)
			return 0;
		ce->etime++;
		delta = delta > ce->max_delta / 2 ? ce->max_delta : MAX(2 * delta, 1ull);
	}
	return -ETIME;
}

void clockevent_irq(struct clockevent *ce, u64 tsc)
{
	ce->irq_tsc = tsc;
	ce->irq_passed = !ce->check_passed || !ce->passed || ce->passed(ce);
	ce->events++;
	if (ce->handler)
		ce->handler(ce);
}

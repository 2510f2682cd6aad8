/* The HPET comparator's equality-match rules and the oneshot programming
 * that re-reads the counter, through accessors so that host tests can
 * drive a simulated part. It must not touch a register itself. */
#include "hpet_cmp.h"
#include "tick/clockevent.h"

static u64 width_mask(int width)
{
	return width >= 64 ? ~0ull : (1ull << width) - 1;
}

bool hpet_cmp_passed(u64 now, u64 cmp, int width)
{
	u64 mask = width_mask(width);

	return ((now - cmp) & mask) <= mask / 2;
}

int hpet_cmp_program(const struct hpet_cmp_dev *d, u64 delta, u64 *cmp)
{
	u64 mask = width_mask(d->width), now, ahead;

	*cmp = (d->read_counter(d->ctx) + delta) & mask;
	d->write_cmp(d->ctx, *cmp);
	now = d->read_counter(d->ctx) & mask;
	/* How far the comparator is still ahead, in the width's range; at
	 * or behind the counter reads as more than half the range. */
	ahead = (*cmp - now) & mask;
	return ahead < d->margin || ahead > mask / 2 ? -ETIME : 0;
}

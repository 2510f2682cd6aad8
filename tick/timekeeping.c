/* Monotonic and wall nanoseconds from a clocksource with Linux's
 * mult/shift. Pure logic (host-tested): it must not read hardware except
 * through cs->read. */
#include "timekeeping.h"
#include "clocksource.h"

#define NSEC_PER_SEC	1000000000ull
/* Longest interval between updates the conversion allows. The shifted
 * nanoseconds of a second (< 2^62 for shift <= 32) plus one interval's
 * product must fit in 64 bits: clocks_calc_mult_shift keeps the product
 * below 2^63 for maxsec, which is why it is given twice the interval. */
#define TK_MAX_SEC	10

void clocks_calc_mult_shift(u32 *mult, u32 *shift, u64 from, u64 to, u64 maxsec)
{
	u64 tmp;
	u32 sft, sftacc = 32;

	/* How many bits the largest cycle count (maxsec * from) needs above
	 * 32 limits how large mult may be. */
	tmp = (maxsec * from) >> 32;
	while (tmp) {
		tmp >>= 1;
		sftacc--;
	}
	/* The largest shift whose mult still fits in the bits left. */
	for (sft = 32; sft > 0; sft--) {
		tmp = (to << sft) + from / 2;
		tmp /= from;
		if ((tmp >> sftacc) == 0)
			break;
	}
	*mult = (u32)tmp;
	*shift = sft;
}

void timekeeping_init(struct timekeeper *tk, struct clocksource *cs, u64 wall_ns)
{
	u64 maxsec = TK_MAX_SEC, wrap_s = cs->mask / 2 / cs->freq_hz;

	if (wrap_s < maxsec)
		maxsec = wrap_s ? wrap_s : 1;
	tk->cs = cs;
	clocks_calc_mult_shift(&tk->mult, &tk->shift, cs->freq_hz, NSEC_PER_SEC, 2 * maxsec);
	tk->max_cycles = MIN(cs->mask / 2, maxsec * cs->freq_hz);
	tk->cycle_last = cs->read(cs);
	tk->sec = 0;
	tk->snsec = 0;
	tk->wall_base_ns = wall_ns;
}

u64 tk_now_ns(struct timekeeper *tk)
{
	u64 delta = (tk->cs->read(tk->cs) - tk->cycle_last) & tk->cs->mask;

	return tk->sec * NSEC_PER_SEC + ((tk->snsec + delta * tk->mult) >> tk->shift);
}

void tk_update(struct timekeeper *tk)
{
	u64 now = tk->cs->read(tk->cs);
	u64 delta = (now - tk->cycle_last) & tk->cs->mask;
	u64 one_sec = NSEC_PER_SEC << tk->shift;

	tk->snsec += delta * tk->mult;
	while (tk->snsec >= one_sec) {
		tk->snsec -= one_sec;
		tk->sec++;
	}
	tk->cycle_last = now;
}

u64 tk_wall_ns(struct timekeeper *tk)
{
	return tk->wall_base_ns + tk_now_ns(tk);
}

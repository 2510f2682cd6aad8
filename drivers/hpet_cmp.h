/* The HPET comparator's rules, apart from the registers so that host
 * tests can hold them against a simulated part: a comparator fires only
 * when the main counter equals it, so one written behind the counter
 * never fires (until the counter wraps round to it: 300 s on a 32-bit
 * HPET at 14.31818 MHz). No MMIO here: the device is reached through
 * accessors. */
#ifndef DRIVERS_HPET_CMP_H
#define DRIVERS_HPET_CMP_H

#include "lib/types.h"

/*
 * The margin the comparator must still be ahead of the counter when it
 * is read back after programming (Linux's HPET_MIN_CYCLES, 128): a write
 * reaches the part some cycles after it leaves the CPU, so a comparator
 * only just ahead at the re-read may already be behind when it lands.
 */
#define HPET_CMP_MARGIN		128

struct hpet_cmp_dev {
	u64 (*read_counter)(void *ctx);		/* the main counter, width bits */
	void (*write_cmp)(void *ctx, u64 v);	/* comparator, width bits */
	void *ctx;
	int width;				/* 32 or 64 */
	u64 margin;				/* HPET_CMP_MARGIN on hardware */
};

/* True when counter value now is at or past comparator cmp, taking the
 * nearer way round the width's range (a step of less than half of it). */
bool hpet_cmp_passed(u64 now, u64 cmp, int width);

/*
 * One oneshot programming as Linux's hpet_clkevt_set_next_event does it:
 * the comparator is written delta ticks past the counter, and the counter
 * is read again; when the comparator is not at least margin ahead of it
 * then, the event may be lost and -ETIME is returned (the comparator may
 * still fire: it is left as written). Returns 0 or -ETIME; *cmp is the
 * value written.
 */
int hpet_cmp_program(const struct hpet_cmp_dev *d, u64 delta, u64 *cmp);

#endif

/*
 * The broadcast device, as Linux's tick-broadcast chooses it: a per-CPU
 * timer that stops in deep C-states (the LAPIC timer where CPUID 6 EAX
 * bit 2, ARAT, is clear: CE_C3STOP) cannot wake its CPU from them, so a
 * global device that keeps running (HPET, PIT) must stand in while the
 * CPU sleeps deeply. tickscope itself idles with HLT (C1), where the LAPIC
 * timer runs; this says what a deeper idle would need.
 */
#ifndef TICK_BROADCAST_H
#define TICK_BROADCAST_H

#include "clockevent.h"

struct tick_broadcast {
	bool needed;			/* the tick device stops in deep C-states */
	struct clockevent *dev;		/* the device to broadcast from, or NULL */
	const char *why;		/* one sentence for the report */
};

/*
 * Decides for the tick device tick (oneshot: the tick runs in oneshot mode)
 * among the n devices devs: not needed when tick keeps running in deep
 * C-states; else the highest-rated device that is neither per-CPU nor
 * stopped in C-states and has the mode the tick runs in. Pure: host tests
 * give it their own devices. Returns 0, or -ENODEV when a broadcast
 * device is needed and there is none (out->why says so).
 */
int tick_broadcast_pick(const struct clockevent *tick, bool oneshot,
			struct clockevent *const *devs, int n, struct tick_broadcast *out);

/* The C3STOP flag for a LAPIC-based device: set when the CPU lacks ARAT. */
static inline u32 ce_c3stop_unless_arat(bool arat)
{
	return arat ? 0 : CE_C3STOP;
}

#endif

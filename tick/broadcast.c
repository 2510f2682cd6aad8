/* Choosing the broadcast device for a tick device that stops in deep
 * C-states. It must not program a device: it only picks one. */
#include "broadcast.h"

int tick_broadcast_pick(const struct clockevent *tick, bool oneshot,
			struct clockevent *const *devs, int n, struct tick_broadcast *out)
{
	u32 mode = oneshot ? CE_ONESHOT : CE_PERIODIC;

	*out = (struct tick_broadcast){ .needed = tick && (tick->features & CE_C3STOP) };
	if (!out->needed) {
		out->why = "the tick device keeps running in deep C-states (ARAT or not per-CPU)";
		return 0;
	}
	for (int i = 0; i < n; i++) {
		struct clockevent *d = devs[i];

		if (d == tick || (d->features & (CE_PERCPU | CE_C3STOP)) || !(d->features & mode))
			continue;
		if (!out->dev || d->rating > out->dev->rating)
			out->dev = d;
	}
	if (!out->dev) {
		out->why = oneshot ? "no global oneshot device keeps running in deep C-states"
				   : "no global periodic device keeps running in deep C-states";
		return -ENODEV;
	}
	out->why = "the tick device stops in deep C-states without ARAT: broadcast from a global "
		   "device";
	return 0;
}

/* The TSC ruler: the rate the TSC driver hands down, cycle/ns conversions
 * and bounded busy-waits. It must not estimate the rate itself or call up
 * into drivers: it only uses what it was given. */
#include "delay.h"
#include "cpu.h"
#include "lib/math.h"

static u64 hz = 1000000000;
static const char *source = "assumed";

u64 tsc_hz(void) { return hz; }
const char *tsc_hz_source(void) { return source; }

void tsc_ruler_set(u64 h, const char *src)
{
	hz = h;
	source = src;
}

u64 tsc_to_ns(u64 cycles) { return mul_div_u64(cycles, 1000000000, hz); }
u64 ns_to_tsc(u64 ns) { return mul_div_u64(ns, hz, 1000000000); }

void tsc_delay_us(u64 us)
{
	u64 end = rdtsc_ordered() + ns_to_tsc(us * 1000);

	while (rdtsc_ordered() < end)
		cpu_relax();
}

void tsc_wait_steal(u64 end, u64 period, struct steal *s)
{
	u64 prev = rdtsc_ordered(), now;

	*s = (struct steal){ 0, 0, 0 };
	while ((now = rdtsc_ordered()) < end) {
		if (period && now - prev >= period) {
			s->gaps++;
			s->cycles += now - prev;
			s->periods += (now - prev) / period;
		}
		prev = now;
	}
}

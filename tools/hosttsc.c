/*
 * Host TSC rate, the known answer for guests whose TSC runs at the host's
 * rate (TCG without icount; KVM without TSC scaling). Compares rdtsc with
 * CLOCK_MONOTONIC, which QEMU's device clocks follow (util/qemu-timer-common.c
 * picks it for get_clock(); KVM's in-kernel LAPIC and PIT run on hrtimers of
 * the same clock), and with CLOCK_MONOTONIC_RAW, the undisciplined clock:
 * the two differ by the NTP frequency correction (up to 500 ppm), printed as
 * the slew. Each end of the window is the narrowest of several bracketed
 * samples, and each sample reads both clocks inside one bracket.
 *
 *   hosttsc [window_ms]  ->  "raw_hz=N mono_hz=N unc_ppb=N slew_ppb=N"
 *   hosttsc now          ->  "tsc=N mono_ns=N"  (one narrow-bracketed pair: where a
 *                            guest's TSC is the host's, the host's TSC at a host time)
 *
 * slew_ppb is how much faster CLOCK_MONOTONIC ran than CLOCK_MONOTONIC_RAW
 * over the window (positive: NTP speeds the clock up), to within unc_ppb.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

struct sample {
	uint64_t tsc;	/* midpoint of the bracket */
	uint64_t width;
	int64_t raw_ns, mono_ns;
};

static int64_t ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct sample best_sample(void)
{
	struct sample best = { 0, UINT64_MAX, 0, 0 };

	for (int i = 0; i < 200; i++) {
		unsigned aux;
		uint64_t a = __rdtscp(&aux);
		int64_t r = ns(CLOCK_MONOTONIC_RAW);
		int64_t m = ns(CLOCK_MONOTONIC);
		uint64_t b = __rdtscp(&aux);

		if (b - a < best.width)
			best = (struct sample){ a + (b - a) / 2, b - a, r, m };
	}
	return best;
}

int main(int argc, char **argv)
{
	long ms = argc > 1 ? atol(argv[1]) : 300;
	struct sample s0, s1;
	struct timespec sl;
	double dt, raw_hz, mono_hz, unc, slew;

	if (argc > 1 && !strcmp(argv[1], "now")) {
		s0 = best_sample();
		printf("tsc=%llu mono_ns=%lld\n", (unsigned long long)s0.tsc, (long long)s0.mono_ns);
		return 0;
	}
	if (ms < 10 || ms > 60000) {
		fprintf(stderr, "hosttsc: window must be 10..60000 ms\n");
		return 2;
	}
	s0 = best_sample();
	sl.tv_sec = ms / 1000;
	sl.tv_nsec = (ms % 1000) * 1000000;
	nanosleep(&sl, NULL);
	s1 = best_sample();
	dt = (double)(s1.tsc - s0.tsc);
	raw_hz = dt * 1e9 / (double)(s1.raw_ns - s0.raw_ns);
	mono_hz = dt * 1e9 / (double)(s1.mono_ns - s0.mono_ns);
	/* Each end is known to within its bracket (two clock reads). */
	unc = (double)(s0.width + s1.width) / dt * 1e9;
	slew = ((double)(s1.mono_ns - s0.mono_ns) / (double)(s1.raw_ns - s0.raw_ns) - 1.0) * 1e9;
	printf("raw_hz=%.0f mono_hz=%.0f unc_ppb=%.0f slew_ppb=%.0f\n", raw_hz, mono_hz, unc, slew);
	return 0;
}

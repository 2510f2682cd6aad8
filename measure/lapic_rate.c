/* The LAPIC timer's rate by a bracketed fit against the TSC over two
 * bursts of reads of its current count (lapic_rate.h). It must not judge
 * the result (tests/ do) nor leave the timer running. */
#include "lapic_rate.h"
#include "arch-x86/cpu.h"
#include "arch-x86/delay.h"
#include "arch-x86/lapic.h"
#include "drivers/lapic_timer.h"
#include "lib/math.h"

/* Reads kept per burst at most, at a steady pace through its length:
 * under TCG, where a read takes ~0.1 us, 512 in 10 ms already put the
 * fit's scatter (~10 ppb) far below its one-count floor over the span
 * (~120 ppb), and fitting 4096 took 10 ms more of set-up. Under KVM the
 * reads come at 15-50 a ms, about as many as the pace allows. */
#define BURST_MAX	(CAL_MAX_SAMPLES / 8)
/* The first burst reads on past its length (at most 4 times it) until
 * it has this many: a burst the vCPU missed most of would leave the
 * fit's first group to a few reads, each carrying its full weight. */
#define BURST_MIN	32

static struct lapic_rate last = { .status = -ENODEV };
/* lapic_rate_plant: the count read this many ppm short */
static u64 plant_ppm;
static struct cal_sample samples[CAL_MAX_SAMPLES] NOINIT;

/* The reads so far: how many are kept, the next one's due time and the
 * pace between them (TSC), and the count extended past the register. */
static struct {
	bool running;
	u64 n, due, pace, first_cycles;
	u32 prev_up;
	u64 up;
} rd;

/*
 * One bracketed read of the count, kept when one is due. The count runs
 * periodic from 0xFFFFFFFF, down: its complement rises, and the 32-bit
 * step between two reads is what it counted unless a whole wrap passed
 * between them (68.7 s at QEMU's 62.5 MHz; the bursts are at most the
 * calibration's bound apart). Returns the TSC after the read.
 */
static u64 read_one(void)
{
	u64 a = rdtsc_ordered();
	u32 up = ~lapic_timer_current();
	u64 b = rdtsc_ordered();

	rd.up += (u32)(up - rd.prev_up);
	rd.prev_up = up;
	if (a >= rd.due && rd.n < CAL_MAX_SAMPLES) {
		u64 y = rd.up - (plant_ppm ? mul_div_u64(rd.up, plant_ppm, 1000000) : 0);

		samples[rd.n++] = (struct cal_sample){ a + (b - a) / 2, y,
						       (u32)MIN(b - a, 0xFFFFFFFFull) };
		rd.due += rd.pace;
	}
	return b;
}

void lapic_rate_plant(u64 ppm)
{
	plant_ppm = ppm;
}

int lapic_rate_begin(u64 burst_ns)
{
	u64 start, end, most, now;

	last = (struct lapic_rate){ .status = -ENODEV };
	rd.running = false;
	if (lapic_mode() == LAPIC_OFF || !burst_ns)
		return last.status;
	lapic_timer_freerun(LAPIC_TIMER_DIV16);
	rd.n = 0;
	rd.prev_up = ~lapic_timer_current();
	rd.up = 0;
	start = rdtsc_ordered();
	end = start + ns_to_tsc(burst_ns);
	most = start + 4 * ns_to_tsc(burst_ns);
	rd.pace = (end - start) / BURST_MAX + 1;
	rd.due = start;
	for (now = start; now < end || (rd.n < BURST_MIN && now < most);)
		now = read_one();
	last.burst_n[0] = rd.n;
	/* Kept in cycles: the ruler is the early one until calibrate_boot. */
	rd.first_cycles = now - start;
	/* The fit's nominal rate: the burst's own, first read to last (any
	 * rate near the true one gives the same figure: hz_milli scales the
	 * nominal by what the fit finds against it). */
	if (rd.n >= 2 && samples[rd.n - 1].y > samples[0].y && samples[rd.n - 1].x > samples[0].x)
		last.guess_hz = mul_div_u64(samples[rd.n - 1].y - samples[0].y, tsc_hz(),
					    samples[rd.n - 1].x - samples[0].x);
	if (!last.guess_hz) {
		lapic_timer_stop();
		last.status = -EIO;
		return last.status;
	}
	rd.running = true;
	last.status = 0;
	return 0;
}

/* The fit's uncertainty, at least one count over the span: the count is
 * read to a tick, and where every read lies exactly on the line (icount)
 * the fit's scatter says 0. */
static u64 fit_unc(const struct cal_result *r, u64 nominal_hz)
{
	return MAX(r->unc_ppb, mul_div_u64(1000000000ull, tsc_hz(),
					   MAX(mul_div_u64(r->span_cycles, nominal_hz, 1), 1ull)));
}

int lapic_rate_finish(u64 bound_ns, u64 aim_ppb)
{
	const struct cal_run *run = calibrate_last();
	/* Under KVM the count is computed inside the exit, from the host's
	 * CLOCK_MONOTONIC at that moment (arch/x86/kvm/lapic.c,
	 * apic_get_tmcct: ktime_get() against the target expiration), so
	 * the read sits at a fixed point of the exit's path; what a slower
	 * exit adds falls mostly before it: CS_WIDTH_FIT (calfit.h). Under
	 * TCG every bracket is as wide and the term does nothing. */
	static struct clocksource counter = {
		.name = "lapic", .mask = 0xFFFFFFFFull, .flags = CS_EXITS | CS_WIDTH_FIT,
		.read_method = "LAPIC current count, divide by 16",
	};
	u64 ruler_unc = run->chosen >= 0 ? run->r[run->chosen].unc_ppb : 0;
	u64 n1 = rd.n, start, least, end, most, now, next_fit = 2 * rd.n;
	bool fitted = false;

	if (!rd.running)
		return last.status;
	rd.running = false;
	counter.freq_hz = last.guess_hz;
	last.fit = (struct cal_result){ .cs = &counter, .status = -EIO };
	last.bound_ns = bound_ns;
	last.aim_ppb = aim_ppb;
	last.burst_ns[0] = tsc_to_ns(rd.first_cycles);
	start = rdtsc_ordered();
	least = start + rd.first_cycles;
	end = start + ns_to_tsc(bound_ns > last.burst_ns[0] ? bound_ns - last.burst_ns[0] : 0);
	most = MAX(end, least) + rd.first_cycles;
	rd.due = start;
	/* At least as long as the first burst and with as many reads, so
	 * that the fit's two groups are the two bursts; then, sized, until
	 * the aim is met, fitted each time a quarter more reads are in; the
	 * balance waits at most the first burst's length past the bound. */
	for (now = start; rd.n < CAL_MAX_SAMPLES && now < most &&
	     (now < least || rd.n < 2 * n1 || now < end);) {
		now = read_one();
		fitted = false;
		if (!aim_ppb || now < least || rd.n < MAX(2 * n1, next_fit))
			continue;
		cal_estimate(&last.fit, samples, rd.n);
		fitted = true;
		next_fit = rd.n + MAX((rd.n - n1) / 4, 4ull);
		if (!last.fit.status && 3 * fit_unc(&last.fit, counter.freq_hz) <= aim_ppb) {
			last.met = true;
			break;
		}
		/* The fits count too: the bound is on the time spent. */
		now = rdtsc_ordered();
	}
	lapic_timer_stop();
	last.burst_n[1] = rd.n - n1;
	last.burst_ns[1] = tsc_to_ns(now - start);
	if (!fitted)
		cal_estimate(&last.fit, samples, rd.n);
	last.fit.samples = rd.n;
	last.status = last.fit.status;
	if (last.status)
		return last.status;
	last.span_ns = tsc_to_ns(samples[rd.n - 1].x - samples[0].x);
	last.hz_milli = mul_div_u64(counter.freq_hz * 1000, tsc_hz(), last.fit.tsc_hz);
	last.fit_unc_ppb = fit_unc(&last.fit, counter.freq_hz);
	last.unc_ppb = hypot_u64(last.fit.unc_ppb, ruler_unc);
	return 0;
}

const struct lapic_rate *lapic_rate_last(void)
{
	return &last;
}

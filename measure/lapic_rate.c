/* The LAPIC timer's rate by a bracketed fit against the TSC, through a
 * counter wrapper around its current-count register. It must not judge
 * the result (tests/ do) nor leave the timer running. */
#include "lapic_rate.h"
#include "arch-x86/delay.h"
#include "drivers/lapic_timer.h"
#include "lib/math.h"

static struct lapic_rate last = { .status = -ENODEV };

/* The current count falls from 0xFFFFFFFF to 0 and reloads: its
 * complement is a 32-bit up-counter that the wrap extender follows. */
static u64 read_count(struct clocksource *cs)
{
	(void)cs;
	return (u32)~lapic_timer_current();
}

int lapic_rate_measure(u64 window_ns)
{
	const struct lapic_timer_info *li = lapic_timer_info();
	const struct cal_run *run = calibrate_last();
	/* Under KVM the count is computed inside the exit, from the host's
	 * CLOCK_MONOTONIC at that moment (arch/x86/kvm/lapic.c,
	 * apic_get_tmcct: ktime_get() against the target expiration), so
	 * the read sits at a fixed point of the exit's path; what a slower
	 * exit adds falls mostly before it: CS_WIDTH_FIT (calfit.h). Under
	 * TCG every bracket is as wide and the term does nothing. Static:
	 * the fit kept in last points at it (lapic.calibration reads it). */
	static struct clocksource counter = {
		.name = "lapic", .read = read_count, .mask = 0xFFFFFFFFull,
		.flags = CS_EXITS | CS_WIDTH_FIT,
		.read_method = "LAPIC current count, divide by 16",
	};
	struct clocksource *refs[1] = { &counter };
	u64 ruler_unc = run->chosen >= 0 ? run->r[run->chosen].unc_ppb : 0, again = 0;

	last = (struct lapic_rate){ .status = -ENODEV };
	if (!li->freq_hz)
		return last.status;
	/* The nominal rate the fit assumes is the boot estimate; the TSC
	 * rate found against it, compared with the ruler, corrects it. */
	counter.freq_hz = li->freq_hz;
	last.guess_hz = li->freq_hz;
	lapic_timer_freerun(LAPIC_TIMER_DIV16);
	calibrate_tsc(refs, 1, window_ns, &last.fit);
	/* A window the vCPU missed most of in one piece (calfit.h
	 * cal_lopsided), or one it was kept from polling so often that too few
	 * samples were usable (wide brackets: a loaded KVM host left 0 of 8),
	 * is measured again, at most CAL_RETRIES times, counted in
	 * fit.remeasured; what persists is judged as it is. */
	while (again < CAL_RETRIES &&
	       (cal_lopsided(&last.fit) || (last.fit.status && last.fit.wide))) {
		again++;
		steal_note_remeasured();
		calibrate_tsc(refs, 1, window_ns, &last.fit);
	}
	last.fit.remeasured = again;
	lapic_timer_stop();
	last.status = last.fit.status;
	if (last.status)
		return last.status;
	last.hz_milli = mul_div_u64(counter.freq_hz * 1000, tsc_hz(), last.fit.tsc_hz);
	/* At least one count over the span: the count is read to a tick,
	 * and where every read lies exactly on the line (icount) the fit's
	 * scatter says 0. */
	last.fit_unc_ppb = MAX(last.fit.unc_ppb, mul_div_u64(1000000000ull, tsc_hz(),
				mul_div_u64(last.fit.span_cycles, counter.freq_hz, 1)));
	last.unc_ppb = isqrt_u64(last.fit.unc_ppb * last.fit.unc_ppb + ruler_unc * ruler_unc);
	lapic_timer_set_hz((last.hz_milli + 500) / 1000);
	return 0;
}

const struct lapic_rate *lapic_rate_last(void)
{
	return &last;
}

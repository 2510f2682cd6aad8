/* The LAPIC timer as the "lapic" and "tscdeadline" clockevents, and the
 * direct access the watchdog and per-CPU tick tests use. Nothing else may
 * program the timer; this file must not touch other LAPIC registers. */
#include "lapic_timer.h"
#include "arch-x86/cpu.h"
#include "arch-x86/cpuinfo.h"
#include "arch-x86/delay.h"
#include "arch-x86/idt.h"
#include "arch-x86/lapic.h"
#include "lib/math.h"
#include "lib/printf.h"
#include "lib/str.h"
#include "tick/broadcast.h"
#include "tick/clockevent.h"

static struct lapic_timer_info info;
static int vector = -1;
static char reason[96], reason_dl[96];
static struct clockevent lapic_ce, deadline_ce;
static struct clockevent *active;	/* which of the two owns the LVT */

static void lapic_irq(struct int_frame *f, void *ctx)
{
	u64 tsc = rdtsc();

	(void)f;
	(void)ctx;
	if (active)
		clockevent_irq(active, tsc);
}

static void lvt(struct clockevent *ce, u32 mode)
{
	active = ce;
	lapic_write(LAPIC_LVT_TIMER, mode | (u32)vector);
}

void lapic_timer_start(u32 div, u32 mode, u8 vec, u32 count)
{
	lapic_write(LAPIC_TIMER_DIV, div);
	lapic_write(LAPIC_LVT_TIMER, mode | vec);
	lapic_write(LAPIC_TIMER_INIT, count);
}

void lapic_timer_stop(void)
{
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
	lapic_write(LAPIC_TIMER_INIT, 0);
}

u32 lapic_timer_count_for(u32 div, u64 us)
{
	u32 left;

	lapic_write(LAPIC_TIMER_DIV, div);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
	lapic_write(LAPIC_TIMER_INIT, 0xFFFFFFFF);
	tsc_delay_us(us);
	left = lapic_read(LAPIC_TIMER_CUR);
	lapic_write(LAPIC_TIMER_INIT, 0);
	return 0xFFFFFFFF - left;
}

void lapic_timer_freerun(u32 div)
{
	lapic_write(LAPIC_TIMER_DIV, div);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | LVT_TIMER_PERIODIC);
	lapic_write(LAPIC_TIMER_INIT, 0xFFFFFFFF);
}

u32 lapic_timer_current(void)
{
	return lapic_read(LAPIC_TIMER_CUR);
}

void lapic_timer_set_hz(u64 hz)
{
	if (!hz)
		return;
	info.freq_hz = hz;
	lapic_ce.freq_hz = hz;
}

static int lapic_periodic(struct clockevent *ce, u64 hz)
{
	u64 count;

	if (hz == 0)
		return -EINVAL;
	count = (info.freq_hz + hz / 2) / hz;
	if (count < ce->min_delta || count > ce->max_delta)
		return -EINVAL;
	ce->period_mhz = mul_div_u64(info.freq_hz, 1000, count);
	ce->period_ticks = count;
	lapic_write(LAPIC_TIMER_DIV, LAPIC_TIMER_DIV16);
	lvt(ce, LVT_TIMER_PERIODIC);
	lapic_write(LAPIC_TIMER_INIT, (u32)count);
	return 0;
}

static int lapic_next(struct clockevent *ce, u64 delta)
{
	u64 a, b;

	if (active != ce) {
		lapic_write(LAPIC_TIMER_DIV, LAPIC_TIMER_DIV16);
		lvt(ce, LVT_TIMER_ONESHOT);
	}
	a = rdtsc_ordered();
	lapic_write(LAPIC_TIMER_INIT, (u32)delta);
	b = rdtsc_ordered();
	/* The count starts at the write, somewhere inside [a, b]. */
	ce->due_tsc = a + (b - a) / 2 + mul_div_u64(delta, tsc_hz(), info.freq_hz);
	ce->due_unc = (b - a) / 2;
	return 0;
}

/* A oneshot count stays at 0 once it has run out. */
static bool lapic_passed(struct clockevent *ce)
{
	(void)ce;
	return lapic_read(LAPIC_TIMER_CUR) == 0;
}

/* The deadline is exact. */
static bool deadline_passed(struct clockevent *ce)
{
	return rdtsc() >= ce->due_tsc;
}

/* The deadline MSR is disarmed only while the TSC-deadline mode owns the
 * LVT, and before the LVT leaves that mode: in any other mode a write to
 * it is ignored at best (SDM 10.5.4.1), Bochs logs an error for each one,
 * and a CPU without TSC_DEADLINE raises #GP. */
static void lapic_shutdown(struct clockevent *ce)
{
	(void)ce;
	if (active == &deadline_ce)
		wrmsr(MSR_TSC_DEADLINE, 0);
	lapic_timer_stop();
	active = NULL;
}

static int deadline_next(struct clockevent *ce, u64 delta)
{
	u64 due;

	if (active != ce)
		lvt(ce, LVT_TIMER_DEADLINE);
	due = rdtsc_ordered() + delta;
	wrmsr(MSR_TSC_DEADLINE, due);
	ce->due_tsc = due;
	ce->due_unc = 0;	/* the deadline is exact */
	return 0;
}

static struct clockevent lapic_ce = {
	.name = "lapic",
	.rating = 100,
	.features = CE_PERIODIC | CE_ONESHOT | CE_PERCPU,
	.min_delta = 0xF,		/* Linux's LAPIC minimum */
	.max_delta = 0x7FFFFFFF,
	.set_periodic = lapic_periodic,
	.set_next_event = lapic_next,
	.shutdown = lapic_shutdown,
	.passed = lapic_passed,
};

static struct clockevent deadline_ce = {
	.name = "tscdeadline",
	.rating = 150,
	.features = CE_ONESHOT | CE_DEADLINE | CE_PERCPU,
	.min_delta = 0xF,
	.max_delta = 0x7FFFFFFFFFFFFFFFull,
	.set_next_event = deadline_next,
	.shutdown = lapic_shutdown,
	.passed = deadline_passed,
};

/* Timer ticks per second at divide-by-16, against the TSC. */
static u64 measure_hz(void)
{
	u64 a, b, c, d;
	u32 c0, c1;

	lapic_write(LAPIC_TIMER_DIV, LAPIC_TIMER_DIV16);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
	lapic_write(LAPIC_TIMER_INIT, 0xFFFFFFFF);
	a = rdtsc_ordered();
	c0 = lapic_read(LAPIC_TIMER_CUR);
	b = rdtsc_ordered();
	tsc_delay_us(LAPIC_CAL_US);
	c = rdtsc_ordered();
	c1 = lapic_read(LAPIC_TIMER_CUR);
	d = rdtsc_ordered();
	lapic_write(LAPIC_TIMER_INIT, 0);
	if (c0 <= c1)
		return 0;
	return mul_div_u64(c0 - c1, tsc_hz(), (c + (d - c) / 2) - (a + (b - a) / 2));
}

int lapic_timer_init(const struct cpu_info *ci, const char **why, const char **why_deadline)
{
	*why = reason;
	*why_deadline = reason_dl;
	if (lapic_mode() == LAPIC_OFF) {
		snprintf_(reason, sizeof(reason), "no local APIC");
		snprintf_(reason_dl, sizeof(reason_dl), "no local APIC");
		return -ENODEV;
	}
	info.measured_hz = measure_hz();
	info.claim_source = "none";
	if (ci->l15_crystal_hz) {
		/* Since Skylake the APIC timer runs at the crystal clock. */
		info.claimed_hz = ci->l15_crystal_hz / 16;
		info.claim_source = "cpuid 0x15 crystal";
	} else if (ci->hv_apic_khz) {
		info.claimed_hz = (u64)ci->hv_apic_khz * 1000 / 16;
		info.claim_source = "cpuid 0x40000010";
	}
	/* A claim within 1 % of the measurement (Linux's LAPIC check
	 * against the PM timer allows 1 %) is exact; else measure wins. */
	info.freq_hz = info.measured_hz;
	if (info.claimed_hz && info.measured_hz &&
	    ppb_diff(info.claimed_hz, info.measured_hz) < 10000000 &&
	    ppb_diff(info.claimed_hz, info.measured_hz) > -10000000)
		info.freq_hz = info.claimed_hz;
	if (!info.freq_hz) {
		snprintf_(reason, sizeof(reason), "the LAPIC timer does not count down");
		snprintf_(reason_dl, sizeof(reason_dl), "the LAPIC timer does not count down");
		return -EIO;
	}
	vector = irq_alloc(lapic_irq, NULL);
	if (vector < 0) {
		snprintf_(reason, sizeof(reason), "no free interrupt vector");
		return -EIO;
	}
	lapic_ce.freq_hz = info.freq_hz;
	/* Without ARAT the timer stops in deep C-states (tick/broadcast.h). */
	lapic_ce.features |= ce_c3stop_unless_arat(ci->arat);
	deadline_ce.features |= ce_c3stop_unless_arat(ci->arat);
	snprintf_(lapic_ce.route, sizeof(lapic_ce.route), "LAPIC LVT timer, vector 0x%x", vector);
	if (clockevent_register(&lapic_ce))
		return -EIO;
	if (!ci->tsc_deadline) {
		snprintf_(reason_dl, sizeof(reason_dl), "CPUID.1:ECX.TSC_DEADLINE is clear "
			  "(e.g. -cpu qemu64, or TCG)");
		return 0;
	}
	deadline_ce.freq_hz = tsc_hz();
	snprintf_(deadline_ce.route, sizeof(deadline_ce.route), "LAPIC LVT timer (TSC deadline), "
		  "vector 0x%x", vector);
	reason_dl[0] = 0;
	return clockevent_register(&deadline_ce);
}

const struct lapic_timer_info *lapic_timer_info(void)
{
	return &info;
}

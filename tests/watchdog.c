/* The watchdog and exception hook that abandon a hung or faulting test as
 * ERROR. It must not print results or pick tests (the runner and report/
 * do); it only arms, disarms and recovers. */
#include "watchdog.h"
#include "arch-x86/cpu.h"
#include "arch-x86/delay.h"
#include "arch-x86/idt.h"
#include "arch-x86/lapic.h"
#include "drivers/lapic_timer.h"
#include "lib/cmdline.h"
#include "lib/str.h"

#define WATCHDOG_DEFAULT_S 20

/* A LAPIC-timer oneshot on its own vector. */
static struct jmp_ctx recover;
static volatile bool in_test;
static const char *volatile abort_why;
static u64 deadline, wd_timer_hz, wd_seconds;
static int wd_vector = -1;
static bool wd_paused;

static void wd_arm(void)
{
	u64 count;

	if (wd_vector < 0 || wd_paused)
		return;
	count = wd_timer_hz * wd_seconds;
	if (count > 0xFFFFFFFF)
		count = 0xFFFFFFFF;	/* fires early; the handler re-arms */
	lapic_timer_start(LAPIC_TIMER_DIV128, LVT_TIMER_ONESHOT, (u8)wd_vector, (u32)count);
}

static void wd_disarm(void)
{
	if (wd_vector < 0)
		return;
	lapic_timer_stop();
}

void watchdog_pause(void)
{
	wd_disarm();
	wd_paused = true;
}

void watchdog_resume(void)
{
	wd_paused = false;
	if (in_test)
		wd_arm();
}

static void wd_irq(struct int_frame *f, void *ctx)
{
	(void)f;
	(void)ctx;
	if (!in_test)
		return;
	if (rdtsc() < deadline) {
		wd_arm();
		return;
	}
	abort_why = "watchdog";
	in_test = false;
	lapic_eoi();	/* we never return to the dispatcher that would */
	ctx_restore(&recover, 1);
}

static void exc_hook(struct int_frame *f)
{
	static char why[64];

	if (!in_test)
		return;
	snprintf_(why, sizeof(why), "CPU exception %lu at rip 0x%lx", f->vector, f->rip);
	abort_why = why;
	in_test = false;
	ctx_restore(&recover, 1);
}

void watchdog_setup(struct test_env *env)
{
	wd_seconds = cmdline_u64(env->cmd, "watchdog", 1, 600, WATCHDOG_DEFAULT_S);
	exception_set_hook(exc_hook);
	if (lapic_mode() == LAPIC_OFF)
		return;
	/* Rate of the LAPIC timer at divide-by-128, over 10 ms of TSC. */
	wd_timer_hz = (u64)lapic_timer_count_for(LAPIC_TIMER_DIV128, 10000) * 100;
	if (wd_timer_hz == 0)
		return;
	wd_vector = irq_alloc(wd_irq, NULL);
}

enum verdict watchdog_run(enum verdict (*fn)(struct test_env *env), struct test_env *env)
{
	enum verdict v;

	ktap_clear_reason();
	abort_why = NULL;
	deadline = rdtsc() + tsc_hz() * wd_seconds;
	if (ctx_save(&recover)) {
		/* Back from the watchdog or an exception handler. */
		irq_enable();
		if (!strcmp((const char *)abort_why, "watchdog"))
			v = error("watchdog: still running after %lu s", wd_seconds);
		else
			v = error("%s", (const char *)abort_why);
		wd_disarm();
		wd_paused = false;
		return v;
	}
	in_test = true;
	wd_arm();
	irq_enable();
	v = fn(env);
	in_test = false;
	wd_disarm();
	wd_paused = false;
	return v;
}

/* The tick: jiffies and timekeeping on a clockevent, periodic or oneshot,
 * with software timers and NO_HZ idle. It must not pick a device or touch
 * hardware: it uses the clockevent and clocksource it is given. */
#include "tick.h"
#include "clocksource.h"
#include "arch-x86/cpu.h"
#include "arch-x86/delay.h"
#include "lib/math.h"

struct tick {
	struct clockevent *ce;
	struct timekeeper tk;
	u64 period_ns;
	volatile u64 jiffies;
	bool oneshot, running, idle;
	u64 last_tick_ns;		/* when jiffies were last advanced */
	u64 max_idle_ns;		/* longest idle the clocksource allows */
	u64 irq_due, irq_at;		/* the oneshot interrupt being handled: when its
					 * event was due and when it came (TSC) */
	struct timer_queue q;
	struct swtimer *heap[TICK_MAX_TIMERS];
	struct swtimer tick_timer;	/* the emulated periodic tick */
	struct tick_stats stats;
};

static struct tick tk0;

static void periodic_handler(struct clockevent *ce)
{
	(void)ce;
	tk0.stats.irqs++;
	tk0.jiffies++;
	tk_update(&tk0.tk);
	tk0.last_tick_ns = tk_now_ns(&tk0.tk);
}

/* The emulated tick: one jiffy per period that has passed (more when an
 * interrupt came late: catch up, never lose a jiffy), then re-arm at the
 * next period boundary. */
static u64 advance(struct swtimer *t, u64 now)
{
	u64 periods = (now - t->expires) / tk0.period_ns + 1;

	tk0.jiffies += periods;
	tk0.last_tick_ns = now;
	tk_update(&tk0.tk);
	t->expires += periods * tk0.period_ns;
	if (!tk0.idle)
		timerq_add(&tk0.q, t);
	return periods;
}

static void tick_timer_fn(struct swtimer *t, u64 now)
{
	tk0.stats.catchup += advance(t, now) - 1;
}

/* Programs the device for the first timer; interrupts must be off. */
static void program_next(void)
{
	u64 entry = tk_now_ns(&tk0.tk);

	for (int tries = 0; tries < TICK_RETRIES; tries++) {
		struct swtimer *t = timerq_peek(&tk0.q);
		u64 now = tk_now_ns(&tk0.tk), ticks;

		if (!t)
			return;
		if (t->expires <= now) {
			timerq_run(&tk0.q, now);
			continue;
		}
		ticks = mul_div_u64(t->expires - now, tk0.ce->freq_hz, 1000000000ull);
		ticks = MAX(ticks, tk0.ce->min_delta);
		ticks = MIN(ticks, tk0.ce->max_delta);
		if (tk0.ce->set_next_event(tk0.ce, ticks) == 0)
			return;
		tk0.stats.late++;
	}
	/* Still behind after the retries: back off by the time spent here
	 * (at most 100 ms), as Linux's hrtimer_interrupt does, so that a slow
	 * device cannot keep the CPU in this loop. */
	tk0.stats.backoffs++;
	{
		u64 spent = MIN(tk_now_ns(&tk0.tk) - entry, TICK_BACKOFF_MAX_NS);
		/* Further ahead if the device refuses even that (-ETIME):
		 * an event that never comes would stop the tick. */
		clockevent_program(tk0.ce, mul_div_u64(spent, tk0.ce->freq_hz, 1000000000ull));
	}
}

static void oneshot_handler(struct clockevent *ce)
{
	tk0.stats.irqs++;
	/* While idle, an interrupt that came well before the one event
	 * programmed was due belongs to an earlier programming (the
	 * settling idle's wake-up, a tick dropped by the device's shutdown),
	 * held up by the host until now: not one NO_HZ idle asked for. */
	tk0.stats.idle_irqs += tk0.idle;
	if (tk0.idle && ce->due_tsc &&
	    ce->irq_tsc + ce->due_unc + ns_to_tsc(tk0.period_ns / 4) < ce->due_tsc)
		tk0.stats.idle_stale++;
	tk0.irq_due = ce->due_tsc;
	tk0.irq_at = ce->irq_tsc;
	timerq_run(&tk0.q, tk_now_ns(&tk0.tk));
	program_next();
	tk0.irq_due = tk0.irq_at = 0;
}

/*
 * Linux's clocks_calc_max_nsecs: the counter's whole range (or what the
 * mult/shift conversion allows, if less), converted as if the counter ran
 * 11 % fast (clocksource_max_adjustment), halved. Idle longer than that
 * and a narrow counter (the PIT's 16 bits wrap every 55 ms) wraps unseen.
 */
static u64 calc_max_idle_ns(const struct timekeeper *tk)
{
	u64 cycles = MIN(tk->cs->mask, 2 * tk->max_cycles);

	return mul_div_u64(cycles, 1000000000ull * 89, tk->cs->freq_hz * 100) / 2;
}

int tick_start(struct clockevent *ce, struct clocksource *cs, u64 hz, u64 wall_ns)
{
	u64 flags;

	if (!(ce->features & CE_PERIODIC) || hz < HZ_MIN || hz > HZ_MAX)
		return -EINVAL;
	flags = irq_save();
	tick_stop();
	tk0 = (struct tick){ .ce = ce };
	timerq_init(&tk0.q, tk0.heap, TICK_MAX_TIMERS);
	swtimer_init(&tk0.tick_timer, tick_timer_fn, NULL);
	timekeeping_init(&tk0.tk, cs, wall_ns);
	ce->handler = periodic_handler;
	if (ce->set_periodic(ce, hz)) {
		ce->handler = NULL;
		irq_restore(flags);
		return -EINVAL;
	}
	tk0.period_ns = mul_div_u64(1000000000ull, 1000, ce->period_mhz);
	tk0.max_idle_ns = calc_max_idle_ns(&tk0.tk);
	tk0.last_tick_ns = tk_now_ns(&tk0.tk);
	tk0.running = true;
	irq_restore(flags);
	return 0;
}

int tick_switch_oneshot(void)
{
	u64 flags;

	if (!tk0.running || tk0.oneshot || !(tk0.ce->features & CE_ONESHOT))
		return -EINVAL;
	flags = irq_save();
	tk0.ce->shutdown(tk0.ce);
	tk0.ce->handler = oneshot_handler;
	tk0.oneshot = true;
	/* The next jiffy is due one period after the last periodic one. */
	tk0.tick_timer.expires = tk0.last_tick_ns + tk0.period_ns;
	timerq_add(&tk0.q, &tk0.tick_timer);
	program_next();
	irq_restore(flags);
	return 0;
}

void tick_stop(void)
{
	u64 flags = irq_save();

	if (tk0.running) {
		tk0.ce->shutdown(tk0.ce);
		tk0.ce->handler = NULL;
		tk0.running = false;
	}
	irq_restore(flags);
}

u64 tick_jiffies(void) { return tk0.jiffies; }

u64 tick_irq_due_tsc(u64 *at)
{
	*at = tk0.irq_at;
	return tk0.irq_due;
}
u64 tick_last_ns(void) { return tk0.last_tick_ns; }
u64 tick_period_ns(void) { return tk0.period_ns; }
const struct tick_stats *tick_stats(void) { return &tk0.stats; }

u64 tick_now_ns(void)
{
	u64 flags = irq_save(), ns = tk_now_ns(&tk0.tk);

	irq_restore(flags);
	return ns;
}

void tick_set_wall(u64 wall_ns, u64 mono_ns)
{
	tk0.tk.wall_base_ns = wall_ns - mono_ns;
}

u64 tick_wall_ns(void)
{
	return tk0.tk.wall_base_ns + tick_now_ns();
}

int tick_add_timer(struct swtimer *t)
{
	u64 flags = irq_save();
	int rc = timerq_add(&tk0.q, t);

	if (rc == 0 && tk0.oneshot && timerq_peek(&tk0.q) == t)
		program_next();
	irq_restore(flags);
	return rc;
}

bool tick_del_timer(struct swtimer *t)
{
	u64 flags = irq_save();
	bool was = timerq_del(&tk0.q, t);

	irq_restore(flags);
	return was;
}

int tick_del_timers(void (*fn)(struct swtimer *t, u64 now))
{
	u64 flags = irq_save();
	int gone = timerq_del_fn(&tk0.q, fn);

	irq_restore(flags);
	return gone;
}

u64 tick_max_idle_ns(void) { return tk0.max_idle_ns; }

static volatile bool woke;

static void wake_fn(struct swtimer *t, u64 now)
{
	(void)t;
	(void)now;
	woke = true;
}

/* Idle stops the tick, and with it the timekeeping updates it makes: the
 * idle loop folds the clocksource in itself at least every max_idle_ns
 * (and the wake-up is never programmed further out than that). */
static u64 idle_keep_time(u64 *last_update)
{
	u64 now = tk_now_ns(&tk0.tk);

	if (now - *last_update >= tk0.max_idle_ns / 2) {
		tk_update(&tk0.tk);
		now = tk_now_ns(&tk0.tk);
		*last_update = now;
		tk0.stats.idle_updates++;
	}
	return now;
}

void tick_idle_until(u64 until, bool halt)
{
	struct swtimer wake;
	u64 flags, now, last_update, backstop;

	swtimer_init(&wake, wake_fn, NULL);
	flags = irq_save();
	tk_update(&tk0.tk);
	last_update = now = tk_now_ns(&tk0.tk);
	/* The TSC bounds the idle too: were the clocksource to stall, the
	 * loop below would otherwise never end (no watchdog can run while
	 * its LAPIC timer is the device under test). */
	backstop = rdtsc_ordered() + ns_to_tsc((until > now ? until - now : 0) +
					       TICK_IDLE_BACKSTOP_NS);
	if (tk0.oneshot) {
		/* No emulated tick while idle: only real timers wake us. */
		tk0.idle = true;
		timerq_del(&tk0.q, &tk0.tick_timer);
		/* Drop the tick already programmed into the device. */
		tk0.ce->shutdown(tk0.ce);
		woke = false;
		wake.expires = MIN(until, now + tk0.max_idle_ns);
		timerq_add(&tk0.q, &wake);
		program_next();
	}
	for (;;) {
		irq_disable();
		now = idle_keep_time(&last_update);
		if (now >= until)
			break;
		if (rdtsc_ordered() > backstop) {
			tk0.stats.idle_overruns++;
			break;
		}
		if (tk0.oneshot && woke) {
			/* The bounded wake-up fired short of `until`: arm the
			 * next stretch, again at most max_idle_ns. */
			woke = false;
			wake.expires = MIN(until, now + tk0.max_idle_ns);
			timerq_add(&tk0.q, &wake);
			program_next();
		}
		if (halt) {
			steal_halt();
		} else {
			/* The loop's branch ends the emulator's translation
			 * block, where pending interrupts are taken. */
			irq_enable();
			for (int i = 0; i < 16; i++)
				cpu_relax();
		}
	}
	if (tk0.oneshot) {
		timerq_del(&tk0.q, &wake);
		tk0.idle = false;
		/* Catch jiffies up with the periods slept through; only what
		 * passed after the wake-up was due counts as late. */
		if (now >= until + tk0.period_ns)
			tk0.stats.catchup += (now - until) / tk0.period_ns;
		if (now >= tk0.tick_timer.expires)
			advance(&tk0.tick_timer, now);
		else
			timerq_add(&tk0.q, &tk0.tick_timer);
		program_next();
	}
	irq_restore(flags);
}

/* Calibrates the TSC against every other clocksource in one window and
 * sets the ruler to the best result. It must not judge the result (tests/
 * do), nor register or program a device. */
#include "calibrate.h"
#include "arch-x86/cpu.h"
#include "arch-x86/delay.h"
#include "drivers/tsc.h"
#include "lib/fit.h"
#include "lib/math.h"
#include "lib/str.h"

static struct cal_sample samples[CS_MAX][CAL_MAX_SAMPLES] NOINIT;

/* calibrate_plant_events: event-source windows whose sightings are
 * stretched (-1: every one) */
static int plant_windows;
#define PLANT_STRETCH_PPM	8000

void calibrate_plant_events(int windows)
{
	plant_windows = windows;
}

/*
 * An event source (a flag seen set). Each sample is a poll that saw an
 * event since the previous poll: the event happened before it, by up to
 * the polling gap, plus however long the flag was held up (QEMU sets the
 * RTC's from a main-loop timer, late on a busy host). Sightings are thus
 * only ever late, and the least late lie on the events' grid: numbered by
 * the last grid point before each (lib/fit.h grid_place, on the period
 * the counters' TSC rate gives) and fitted by their lower envelope, the
 * rate comes from those alone. A least-squares line through all of them
 * carried the lateness into the rate (tsc.err_ppm.rtc -500 ppm from 1 s
 * under load).
 */
static u64 ev_t[CAL_MAX_SAMPLES] NOINIT, ev_k[CAL_MAX_SAMPLES] NOINIT, ev_scratch[CAL_MAX_SAMPLES] NOINIT;

static void estimate_events(struct cal_result *r, const struct cal_sample *s, u64 n, u64 tsc_hz)
{
	u64 period = tsc_hz / r->cs->freq_hz, m = 0, minw = UINT64_MAX, maxw = 0, spread;
	struct envelope e;

	r->status = -EIO;
	r->kept = n;
	if (n < CAL_MIN_SAMPLES || !period)
		return;
	/* The poll that saw the event: x is the middle of the gap. */
	for (u64 i = 0; i < n; i++)
		ev_t[i] = s[i].x + s[i].w / 2;
	spread = grid_place(ev_t, n, period, ev_k, ev_scratch);
	for (u64 i = 0; i < n; i++) {
		if (m && ev_k[i] <= ev_k[m - 1]) {
			r->rejected++;		/* a second sighting of one event */
			continue;
		}
		ev_k[m] = ev_k[i];
		ev_t[m++] = ev_t[i];
		minw = MIN(minw, (u64)s[i].w);
		maxw = MAX(maxw, (u64)s[i].w);
	}
	r->kept = m;
	r->min_width = minw;
	r->max_width = maxw;
	if (m < CAL_MIN_SAMPLES || envelope_fit(ev_k, ev_t, m, ev_scratch, &e))
		return;
	r->tsc_hz = mul_div_u64(e.tb - e.ta, r->cs->freq_hz, e.kb - e.ka);
	r->unc_ppb = e.unc_ppb;
	r->span_cycles = ev_t[m - 1] - ev_t[0];
	/* The floor under the hull's sightings is known only to the flag's
	 * own delivery scatter (QEMU sets it from a main-loop timer), whose
	 * scale is the median height above the line: a floor that rises by
	 * that much over the window tilts the line and leaves every block
	 * flat (tcg-pc soak beside a load boot: -329 ppm against a stated
	 * 89), as for the periodic fits (tests/periodic.c). */
	r->unc_ppb = MAX(r->unc_ppb, mul_div_u64(e.lag_p50, 1000000000ull, r->span_cycles));
	/* Sightings half a period late or more: the numbering may hide a
	 * drift of up to a period over the span. */
	if (spread >= period / 2)
		r->unc_ppb = MAX(r->unc_ppb, mul_div_u64(period, 1000000000ull, r->span_cycles));
	r->status = 0;
}

/* What the round-robin keeps for each reference between polls. */
struct ref_state {
	struct cs_extender ext;
	u64 count;		/* samples taken */
	u64 next;		/* counters: TSC when the next sample is due */
	u64 prev_mid, prev_y;	/* the previous poll: its time and count */
	u64 read_mid, read_half;	/* the previous read's time and half its
					 * bracket (TSC) */
	u64 ev_mid, ev_y;	/* events: the last one's time and number */
	struct cs_exact ex0, ex;	/* read_exact sources: at the start, and
					 * the latest read */
	u64 step_max;		/* the largest step a re-base made, counts */
	/* events: the hole since the last sighting (or the window's start),
	 * the cycles of it in steps of a period or more between two polls,
	 * and what the holes came to (cal_result's flags_*) */
	u64 period;		/* events: the period by the ruler, cycles (>= 1) */
	u64 hole_from, hole_away;
	u64 pairs, away, held, poll_step_max;
	u64 d_min, d_max;	/* periods between two flags with no step of a
				 * period or more between them: fewest, most */
};

/*
 * Ends the hole from st->hole_from to t, in which the flags due beyond
 * `seen` (1 when a flag was seen at t, 0 at the window's end) were
 * missed: as many of them as the poller's long steps in the hole span
 * are counted as missed while it was away, the rest as held up while it
 * polled. `due` is how many periods the hole spans.
 */
static void hole_end(struct ref_state *st, u64 t, u64 period, u64 due, u64 seen)
{
	u64 missed = due > seen ? due - seen : 0, away = MIN(missed, st->hole_away / period);

	st->away += away;
	st->held += missed - away;
	st->hole_from = t;
	st->hole_away = 0;
}

/*
 * One poll of cs: the read bracketed by two TSC reads, kept as a sample
 * when one is due (counters at a steady pace, event sources when an event
 * was seen). Returns the TSC after the read.
 */
static u64 poll_one(struct clocksource *cs, struct ref_state *st, struct cal_sample *samples,
		    u64 pace)
{
	s64 prev_steps = st->ex.steps;
	u64 a = rdtsc_ordered(), raw = cs->read_exact ? cs->read_exact(cs, &st->ex) : cs->read(cs);
	u64 b = rdtsc_ordered(), mid = a + (b - a) / 2;
	/* The TSC (by the early ruler) says how far the counter went since
	 * the last read: a narrow counter then keeps its wraps even when the
	 * host kept us away for longer than half of one, inside a read or
	 * between two. */
	u64 elapsed = mul_div_u64(mid - st->read_mid, cs->freq_hz, tsc_hz());
	/* The slack: the two half-brackets, and as much again as elapsed
	 * itself, since the ruler here is only the early estimate (a short
	 * PIT window at boot, itself open to the host's absences). */
	u64 y = cs_extend_hint(&st->ext, cs, raw, elapsed, elapsed +
			       mul_div_u64((b - a) / 2 + st->read_half, cs->freq_hz, tsc_hz()));

	st->read_mid = mid;
	st->read_half = (b - a) / 2;
	if (cs->read_exact) {
		/*
		 * Computed from the TSC (kvm-clock): the value belongs to the
		 * TSC it converted, exactly, wherever that fell in the
		 * bracket. At the bracket's middle it was off by where the
		 * exits around it happened to fall: a kvm-clock read costs
		 * 135,000-370,000 cycles under kvm_pvm (three trapping rdtsc),
		 * and on a loaded host the fit through the middles was off by
		 * up to 42 ppm with a stated 12, while the record never
		 * changed. A re-base (the hypervisor's new record) stays in
		 * the samples; the window is counted and measured again.
		 */
		u64 d = (u64)(st->ex.steps >= prev_steps ? st->ex.steps - prev_steps :
			      prev_steps - st->ex.steps);

		st->step_max = MAX(st->step_max, d);
		mid = st->ex.tsc;
	}
	if (st->count == CAL_MAX_SAMPLES)
		return b;
	if (cs->flags & CS_EVENTS) {
		/* An event happened between the previous poll and this one:
		 * its time is known only that well. A flag is not a counter,
		 * so periods that passed unseen (a slow polling round) are
		 * counted by the ruler: whole periods since the last event. */
		u64 step = mid - st->prev_mid;

		/* Kept to two compares a poll: under Bochs the TSC counts
		 * instructions, and the polls' spacing sets where the flags'
		 * sightings fall (bochs-none's RTC, 64 ppm fast, stated 70
		 * ppm when a division was added here, 7.7 without). */
		if (step >= st->period)
			st->hole_away += step;
		if (step > st->poll_step_max)
			st->poll_step_max = step;
		if (y != st->prev_y) {
			u64 t = st->prev_mid + step / 2, period = st->period;
			u64 d = st->ev_mid ? MAX((t - st->ev_mid + period / 2) / period, 1ull) : 1;

			st->ev_y += d;
			if (st->ev_mid && !st->hole_away) {
				st->d_min = MIN(st->d_min, d);
				st->d_max = MAX(st->d_max, d);
			}
			hole_end(st, t, period, st->ev_mid ? d : (t - st->hole_from) / period, 1);
			st->pairs += st->ev_mid && d == 1;
			st->ev_mid = t;
			samples[st->count++] = (struct cal_sample){ t, st->ev_y,
				(u32)MIN(mid - st->prev_mid, 0xFFFFFFFFull) };
		}
		st->prev_y = y;
		st->prev_mid = mid;
	} else if (a >= st->next) {
		samples[st->count++] = (struct cal_sample){ mid, y, (u32)MIN(b - a, 0xFFFFFFFFull) };
		st->next += pace;
	}
	return b;
}

int calibrate_tsc(struct clocksource *const *refs, int n, u64 window_ns, struct cal_result *out)
{
	struct ref_state st[CS_MAX];
	u64 start, end, pace;
	int good = 0, best;

	if (n > CS_MAX)
		n = CS_MAX;
	/* No reference (microvm with pit=off,rtc=off and no HPET or PM
	 * timer): nothing to poll, and the loop below would never advance. */
	if (n <= 0)
		return 0;
	for (int i = 0; i < n; i++) {
		out[i] = (struct cal_result){ .cs = refs[i], .status = -EIO };
		st[i].step_max = 0;
		st[i].ex0 = (struct cs_exact){ 0, 0, 0 };
		cs_extend_start(&st[i].ext, refs[i]->read_exact ?
				refs[i]->read_exact(refs[i], &st[i].ex0) : refs[i]->read(refs[i]));
		st[i].ex = st[i].ex0;
		st[i].count = 0;
		st[i].prev_y = 0;
		st[i].prev_mid = st[i].read_mid = rdtsc_ordered();
		st[i].read_half = 0;
		st[i].ev_mid = 0;
		st[i].ev_y = 0;
		st[i].hole_away = st[i].pairs = st[i].away = st[i].held = 0;
		st[i].period = MAX(tsc_hz() / MAX(refs[i]->freq_hz, 1ull), 1ull);
		st[i].poll_step_max = st[i].d_max = 0;
		st[i].d_min = UINT64_MAX;
	}
	start = rdtsc_ordered();
	end = start + ns_to_tsc(window_ns);
	pace = (end - start) / CAL_MAX_SAMPLES + 1;
	for (int i = 0; i < n; i++)
		st[i].next = st[i].hole_from = start;
	for (u64 now = start; now < end;)
		for (int i = 0; i < n; i++)
			now = poll_one(refs[i], &st[i], samples[i], pace);
	for (int i = 0; i < n; i++) {
		out[i].samples = st[i].count;
		out[i].backwards = st[i].ext.backwards;
		out[i].back_max = st[i].ext.back_max;
		out[i].wraps = st[i].ext.wraps;
		out[i].wraps_by_tsc = st[i].ext.missed;
		out[i].rebases = st[i].ex.rebases - st[i].ex0.rebases;
		out[i].step_max = st[i].step_max;
		if (refs[i]->flags & CS_EVENTS) {
			u64 period = st[i].period;

			/* The hole after the last sighting: the flags due in
			 * whole periods since then were missed. */
			hole_end(&st[i], st[i].prev_mid, period, (st[i].prev_mid - st[i].hole_from) / period, 0);
			out[i].flags_due = (st[i].prev_mid - start) / period;
			out[i].flags_pairs = st[i].pairs;
			out[i].flags_away = st[i].away;
			out[i].flags_held = st[i].held;
			out[i].poll_step_max = st[i].poll_step_max;
			out[i].flags_erratic = st[i].d_max > 2 * st[i].d_min + 2 ? 1 : 0;
		} else {
			cal_estimate(&out[i], samples[i], st[i].count);
			good += out[i].status == 0;
		}
	}
	/* Event sources last: their events are numbered on the period the
	 * counters' TSC rate gives (the early ruler's when there is no
	 * counter), see estimate_events. */
	best = calibrate_choose(out, n);
	for (int i = 0; i < n; i++) {
		if (!(refs[i]->flags & CS_EVENTS))
			continue;
		if (plant_windows) {
			plant_windows -= plant_windows > 0;
			for (u64 j = 0; j < st[i].count; j++)
				samples[i][j].x += mul_div_u64(samples[i][j].x - start,
							       PLANT_STRETCH_PPM, 1000000);
		}
		estimate_events(&out[i], samples[i], st[i].count,
				best >= 0 ? out[best].tsc_hz : tsc_hz());
		good += out[i].status == 0;
	}
	return good;
}

int calibrate_choose(const struct cal_result *r, int n)
{
	int best = -1;

	for (int i = 0; i < n; i++) {
		if (r[i].status || r[i].backwards || (r[i].cs->flags & CS_TSC_BASED))
			continue;	/* a counter that stepped back is no ruler */
		if (best < 0 || r[i].unc_ppb < r[best].unc_ppb)
			best = i;
	}
	return best;
}

static struct cal_run run;

/*
 * Measures a counter's window again alone, at most CAL_RETRIES times
 * (each counted), while it stepped back, counted wraps by the early
 * ruler's hint (first window only), changed its parameters (a
 * hypervisor's re-base of kvm-clock: the clock stepped inside the
 * window, or ran at another rate after; a host event, which passes), or
 * gave too few usable samples (the host kept the vCPU away for most of
 * the shared window: 4 of 4 samples in 100 ms seen at load). What
 * persists through every window is judged as it is.
 */
static void counter_again(struct clocksource *cs, struct cal_result *r, u64 window_ns)
{
	u64 again = 0, back = 0, rebase = 0, shortw = 0, seen = r->rebases, smax = r->step_max;

	while (again < CAL_RETRIES && (r->backwards || (r->wraps_by_tsc && !again) ||
				       r->rebases || r->status)) {
		if (r->backwards || r->wraps_by_tsc)
			back++;
		else if (r->rebases)
			rebase++;
		else
			shortw++;
		steal_note_remeasured();
		calibrate_tsc(&cs, 1, window_ns, r);
		seen += r->rebases;
		smax = MAX(smax, r->step_max);
		again++;
	}
	r->remeasured = again;
	r->back_windows = back;
	r->rebase_windows = rebase;
	r->short_windows = shortw;
	r->rebases_seen = seen;
	r->step_max_seen = smax;
}

/*
 * An event source's window measured again alone, at most CAL_RETRIES
 * times (each counted), while too few of its flags were seen to fit, or
 * once when the early ruler made the shared window short. A window short
 * of flags is followed by one twice as long (at most a second): on a host
 * at load ~10 the vCPU's and the emulator's absences took up to 22 of 26
 * flags from one 100 ms window, and from three such windows in a row. A
 * host's stall passes; a device too slow stays too slow and is judged.
 * The sightings one period apart are added up over every window, and the
 * windows whose flags came erratically (of the stretches between two flags
 * that the poller watched whole, the longest more than twice the shortest
 * and two periods: a steady flag at a sixteenth of its rate varied by two
 * periods and more either way on a loaded host, its sightings late): they
 * show the device at its rate, or a flag that is not steady at any
 * (tests/ judge by them).
 */
static void events_again(struct clocksource *cs, struct cal_result *r, u64 window_ns,
			 bool short_window, const struct cal_result *ruler)
{
	static struct cal_result shared;
	u64 pairs = r->flags_pairs, erratic = r->flags_erratic, w = window_ns;
	bool fitted = !r->status;

	/* A shared window that fitted, measured again only because the early
	 * ruler made it short, is kept when the windows after it did not fit
	 * (loaded TCG: 9 flags a period apart in it, then 1 flag in 56
	 * periods, the vCPU away 218 ms in one step). */
	if (fitted)
		shared = *r;
	for (u64 k = 0; k < CAL_RETRIES && (r->status || (short_window && !k)); k++) {
		if (r->status)
			w = MIN(w * 2, MAX(window_ns, 1000000000ull));
		steal_note_remeasured();
		calibrate_tsc(&cs, 1, w, r);
		pairs += r->flags_pairs;
		erratic += r->flags_erratic;
		r->remeasured = k + 1;
	}
	if (r->status && fitted) {
		u64 again = r->remeasured;

		*r = shared;
		r->remeasured = again;
		w = window_ns;
	}
	/* A fitted window beyond 3 sigma (combined) of the ruler, the best
	 * counter, is measured once more alone and the second is judged, as
	 * Linux's watchdog reads again before it blames a clock: honest
	 * 3-sigma bounds miss about 1 in 370 by chance (err/unc had a
	 * standard deviation of 0.8-0.94 over 120 loaded soak runs, and
	 * tsc.freq_rtc FAILed once at 3.16 sigma in a tcg-q35-smp3 soak); a
	 * device off its rate is off again (plant=rtc_slow). */
	if (!r->status && ruler && !ruler->status) {
		s64 d = ppb_diff(r->tsc_hz, ruler->tsc_hz);
		u64 tol = 3 * hypot_u64(r->unc_ppb, ruler->unc_ppb);

		if (d > (s64)tol || d < -(s64)tol) {
			u64 again = r->remeasured + 1;

			shared = *r;
			calibrate_tsc(&cs, 1, w, r);
			pairs += r->flags_pairs;
			erratic += r->flags_erratic;
			if (r->status)
				*r = shared;
			r->remeasured = again;
			r->disagreed_ppb = d;
			r->disagreed_tol_ppb = tol;
		}
	}
	r->pairs_seen = pairs;
	r->erratic_seen = erratic;
	r->window_ns = w;
}

void calibrate_boot(u64 window_ns)
{
	struct clocksource *refs[CS_MAX];
	bool short_window;
	int n = 0;

	for (int i = 0; i < clocksource_count(); i++)
		if (strcmp(clocksource_get(i)->name, "tsc"))
			refs[n++] = clocksource_get(i);
	run.early_hz = tsc_hz();
	run.early_source = tsc_hz_source();
	run.window_ns = window_ns;
	run.n = n;
	calibrate_tsc(refs, n, window_ns, run.r);
	/* What is measured again below is timed by the ruler this window
	 * gave, not by the early one (see below). */
	run.chosen = calibrate_choose(run.r, n);
	if (run.chosen >= 0)
		tsc_set_hz(run.r[run.chosen].tsc_hz, run.r[run.chosen].cs->name);
	/*
	 * A flag seen too few times to fit was mostly raised unseen: it
	 * coalesces while nothing polls it or while its emulator does not run
	 * (the RTC's, on QEMU's main loop), which the window cannot tell from
	 * a slow device. And a window timed by an early ruler 2.3x fast was
	 * 2.3x short ("only 6 of 6 samples against rtc"; at 1.9x, 9 sightings
	 * numbered into 4.81 GHz for 2.60, tsc.err_ppm.rtc +853228 against a
	 * stated 45862 ppm): every flag's window the early ruler made more
	 * than a tenth short is measured again too (events_again).
	 */
	short_window = run.chosen >= 0 && run.early_hz / 11 > run.r[run.chosen].tsc_hz / 10;
	for (int i = 0; i < n; i++)
		if (refs[i]->flags & CS_EVENTS)
			events_again(refs[i], &run.r[i], window_ns, short_window,
				     run.chosen >= 0 && run.chosen != i ? &run.r[run.chosen] : NULL);
	/*
	 * A counter that stepped back, or whose wraps only the TSC's hint
	 * could count, is measured again alone on the ruler the best counter
	 * of this window gave (at most CAL_RETRIES times, counted; a counter
	 * that stepped back is never that ruler), as is one whose window was
	 * spoiled otherwise (counter_again).
	 * Both rest on the early ruler's word for how far the count went
	 * between two reads, and that ruler is 10 ms of PIT channel 2 timed
	 * by polling its output (drivers/tsc.c), fast by however long the
	 * vCPU was away when the output rose. How a 16-bit PIT "steps back":
	 * with the ruler 2.5x fast, 30 ms away between two reads looks like
	 * 12 ms, under a quarter of the 55 ms wrap, so the raw step of 35795
	 * ticks is taken as 29741 back and lost (tests/host/test_extend.c;
	 * loaded KVM: "stepped backwards 1 times", then -133000 ppm). Longer
	 * away, the hint counts too few wraps (loaded TCG, early ruler 5.97
	 * GHz for 2.60: tsc.err_ppm.pit +519832). The latch is not the cause:
	 * nothing else reads channel 2 while this runs (no interrupt handler
	 * does), and QEMU's and KVM's PITs latch per channel. A counter that
	 * truly goes back does so again and is judged (tsc.freq_<ref>).
	 */
	for (int i = 0; i < n; i++)
		if (!(refs[i]->flags & CS_EVENTS))
			counter_again(refs[i], &run.r[i], window_ns);
	run.chosen = calibrate_choose(run.r, n);
	if (run.chosen >= 0)
		tsc_set_hz(run.r[run.chosen].tsc_hz, run.r[run.chosen].cs->name);
}

const struct cal_run *calibrate_last(void)
{
	return &run;
}

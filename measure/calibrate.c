/* Calibrates the TSC against every other clocksource in one window and
 * sets the ruler to the best result. It must not judge the result (tests/
 * do), nor register or program a device. */
#include "calibrate.h"
#include "arch-x86/cpu.h"
#include "arch-x86/delay.h"
#include "drivers/tsc.h"
#include "lib/math.h"
#include "lib/str.h"

static struct cal_sample samples[CS_MAX][CAL_MAX_SAMPLES];

/* What the round-robin keeps for each reference between polls. */
struct ref_state {
	struct cs_extender ext;
	u64 count;		/* samples taken */
	u64 next;		/* counters: TSC when the next sample is due */
	u64 prev_mid, prev_y;	/* the previous poll: its time and count */
	u64 ev_mid, ev_y;	/* events: the last one's time and number */
};

/*
 * One poll of cs: the read bracketed by two TSC reads, kept as a sample
 * when one is due (counters at a steady pace, event sources when an event
 * was seen). Returns the TSC after the read.
 */
static u64 poll_one(struct clocksource *cs, struct ref_state *st, struct cal_sample *samples,
		    u64 pace)
{
	u64 a = rdtsc_ordered(), raw = cs->read(cs), b = rdtsc_ordered();
	u64 y = cs_extend(&st->ext, cs, raw), mid = a + (b - a) / 2;

	if (st->count == CAL_MAX_SAMPLES)
		return b;
	if (cs->flags & CS_EVENTS) {
		/* An event happened between the previous poll and this one:
		 * its time is known only that well. A flag is not a counter,
		 * so periods that passed unseen (a slow polling round) are
		 * counted by the ruler: whole periods since the last event. */
		if (y != st->prev_y) {
			u64 t = st->prev_mid + (mid - st->prev_mid) / 2;
			u64 period = tsc_hz() / cs->freq_hz;

			st->ev_y += st->ev_mid && period ?
				MAX((t - st->ev_mid + period / 2) / period, 1ull) : 1;
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
	for (int i = 0; i < n; i++) {
		out[i] = (struct cal_result){ .cs = refs[i], .status = -EIO };
		cs_extend_start(&st[i].ext, refs[i]->read(refs[i]));
		st[i].count = 0;
		st[i].prev_y = 0;
		st[i].prev_mid = rdtsc_ordered();
		st[i].ev_mid = 0;
		st[i].ev_y = 0;
	}
	start = rdtsc_ordered();
	end = start + ns_to_tsc(window_ns);
	pace = (end - start) / CAL_MAX_SAMPLES + 1;
	for (int i = 0; i < n; i++)
		st[i].next = start;
	for (u64 now = start; now < end;)
		for (int i = 0; i < n; i++)
			now = poll_one(refs[i], &st[i], samples[i], pace);
	for (int i = 0; i < n; i++) {
		out[i].samples = st[i].count;
		out[i].backwards = st[i].ext.backwards;
		out[i].wraps = st[i].ext.wraps;
		if (!(refs[i]->flags & CS_EVENTS)) {
			cal_estimate(&out[i], samples[i], st[i].count);
			good += out[i].status == 0;
		}
	}
	/* Event sources last: counting periods between polls by the early
	 * ruler goes wrong for good when one event is seen (or raised) late
	 * by half a period, and every later count is then off by one. So
	 * each event's period number is recounted from its time since the
	 * first event, by the TSC rate the counters just gave: a late event
	 * is then one outlier, which the robust refit drops. */
	best = calibrate_choose(out, n);
	for (int i = 0; i < n; i++) {
		struct cal_sample *s = samples[i];

		if (!(refs[i]->flags & CS_EVENTS))
			continue;
		if (best >= 0 && st[i].count)
			for (u64 k = 0; k < st[i].count; k++)
				s[k].y = s[0].y + mul_div_u64(s[k].x - s[0].x + out[best].tsc_hz /
					refs[i]->freq_hz / 2, refs[i]->freq_hz, out[best].tsc_hz);
		cal_estimate(&out[i], s, st[i].count);
		good += out[i].status == 0;
	}
	return good;
}

int calibrate_choose(const struct cal_result *r, int n)
{
	int best = -1;

	for (int i = 0; i < n; i++) {
		if (r[i].status || (r[i].cs->flags & CS_TSC_BASED))
			continue;
		if (best < 0 || r[i].unc_ppb < r[best].unc_ppb)
			best = i;
	}
	return best;
}

static struct cal_run run;

void calibrate_boot(u64 window_ns)
{
	struct clocksource *refs[CS_MAX];
	int n = 0;

	for (int i = 0; i < clocksource_count(); i++)
		if (strcmp(clocksource_get(i)->name, "tsc"))
			refs[n++] = clocksource_get(i);
	run.early_hz = tsc_hz();
	run.early_source = tsc_hz_source();
	run.window_ns = window_ns;
	run.n = n;
	calibrate_tsc(refs, n, window_ns, run.r);
	run.chosen = calibrate_choose(run.r, n);
	if (run.chosen >= 0)
		tsc_set_hz(run.r[run.chosen].tsc_hz, run.r[run.chosen].cs->name);
}

const struct cal_run *calibrate_last(void)
{
	return &run;
}

#include "calibrate.h"
#include "arch-x86/cpu.h"
#include "drivers/tsc.h"
#include "lib/math.h"
#include "lib/str.h"

struct sample {
	u64 x;		/* TSC at the middle of the bracket */
	u64 y;		/* extended reference count */
	u32 w;		/* bracket width, cycles */
};

static struct sample samples[CS_MAX][CAL_MAX_SAMPLES];

/* Samples used: brackets within 2x the narrowest. Event samples are all
 * kept: their width is the polling gap, known and already small. */
static bool usable(const struct cal_result *r, const struct sample *s, u64 minw)
{
	return (r->cs->flags & CS_EVENTS) || s->w <= 2 * minw + 1;
}

static void estimate(struct cal_result *r, const struct sample *s, u64 n)
{
	u64 minw = UINT64_MAX, maxw = 0, x0, y0, idx[2] = { 0, 0 }, sx[2] = { 0, 0 }, sy[2] = { 0, 0 };
	u64 kept = 0, half, dX, dY, k, sigma, ssq = 0, nk, ref_hz = r->cs->freq_hz;
	u64 first = UINT64_MAX, last = 0;

	for (u64 i = 0; i < n; i++)
		minw = MIN(minw, (u64)s[i].w);
	for (u64 i = 0; i < n; i++)
		kept += usable(r, &s[i], minw);
	r->kept = kept;
	r->min_width = minw;
	if (kept < CAL_MIN_SAMPLES) {
		r->status = -EIO;
		return;
	}
	half = kept / 2;
	x0 = s[0].x;
	y0 = s[0].y;
	kept = 0;
	for (u64 i = 0; i < n; i++) {
		int g;

		if (!usable(r, &s[i], minw))
			continue;
		g = kept++ < half ? 0 : 1;
		idx[g]++;
		sx[g] += s[i].x - x0;
		sy[g] += s[i].y - y0;
		maxw = MAX(maxw, (u64)s[i].w);
		first = MIN(first, s[i].x);
		last = MAX(last, s[i].x);
	}
	r->max_width = maxw;
	r->span_cycles = last - first;
	dX = sx[1] * idx[0] - sx[0] * idx[1];
	dY = sy[1] * idx[0] - sy[0] * idx[1];
	if (dX == 0 || dY == 0 || (s64)dX < 0 || (s64)dY < 0) {
		r->status = -EIO;
		return;
	}
	r->tsc_hz = mul_div_u64(dX, ref_hz, dY);
	/* Scatter about the line through the overall means, computed times
	 * n so that the means stay exact (a slow reference's mean count is
	 * far from an integer). */
	nk = idx[0] + idx[1];
	for (u64 i = 0; i < n; i++) {
		s64 dy, res;

		if (!usable(r, &s[i], minw))
			continue;
		dy = (s64)(nk * (s[i].y - y0)) - (s64)(sy[0] + sy[1]);
		res = (s64)(nk * (s[i].x - x0)) - (s64)(sx[0] + sx[1]) -
		      mul_div_s64(dy, r->tsc_hz, ref_hz);
		res /= (s64)nk;
		if (res > 2000000000 || res < -2000000000)
			res = 2000000000;	/* keep the square in range */
		ssq += (u64)(res * res) / 16;
	}
	sigma = 4 * isqrt_u64(ssq / (idx[0] + idx[1] - 2));
	/* sd of the difference of the group means: sigma*sqrt(1/n1 + 1/n2);
	 * relative to the difference itself, dX / (n1 n2). */
	k = isqrt_u64((idx[0] + idx[1]) * idx[0] * idx[1]);
	r->unc_ppb = mul_div_u64(sigma * k, 1000000000ull, dX);
	r->status = 0;
}

int calibrate_tsc(struct clocksource *const *refs, int n, u64 window_ns, struct cal_result *out)
{
	struct cs_extender ext[CS_MAX];
	u64 count[CS_MAX], next[CS_MAX], prev_mid[CS_MAX], prev_y[CS_MAX];
	u64 ev_mid[CS_MAX], ev_y[CS_MAX];
	u64 start, end, pace;
	int good = 0;

	if (n > CS_MAX)
		n = CS_MAX;
	for (int i = 0; i < n; i++) {
		out[i] = (struct cal_result){ .cs = refs[i] };
		cs_extend_start(&ext[i], refs[i]->read(refs[i]));
		count[i] = 0;
		prev_y[i] = 0;
		prev_mid[i] = rdtsc_ordered();
		ev_mid[i] = 0;
		ev_y[i] = 0;
	}
	start = rdtsc_ordered();
	end = start + ns_to_tsc(window_ns);
	pace = (end - start) / CAL_MAX_SAMPLES + 1;
	for (int i = 0; i < n; i++)
		next[i] = start;
	for (u64 now = start; now < end;) {
		for (int i = 0; i < n; i++) {
			struct clocksource *cs = refs[i];
			u64 a = rdtsc_ordered(), raw = cs->read(cs), b = rdtsc_ordered();
			u64 y = cs_extend(&ext[i], cs, raw), mid = a + (b - a) / 2;

			now = b;
			if (count[i] == CAL_MAX_SAMPLES)
				continue;
			if (cs->flags & CS_EVENTS) {
				/* An event happened between the previous poll and
				 * this one: its time is known only that well. A
				 * flag is not a counter, so periods that passed
				 * unseen (a slow polling round) are counted by the
				 * ruler: whole periods since the last event. */
				if (y != prev_y[i]) {
					u64 t = prev_mid[i] + (mid - prev_mid[i]) / 2;
					u64 period = tsc_hz() / cs->freq_hz;

					ev_y[i] += ev_mid[i] && period ?
						MAX((t - ev_mid[i] + period / 2) / period, 1ull) : 1;
					ev_mid[i] = t;
					samples[i][count[i]++] = (struct sample){ t, ev_y[i],
						(u32)MIN(mid - prev_mid[i], 0xFFFFFFFFull) };
				}
				prev_y[i] = y;
				prev_mid[i] = mid;
			} else if (a >= next[i]) {
				samples[i][count[i]++] = (struct sample){ mid, y,
					(u32)MIN(b - a, 0xFFFFFFFFull) };
				next[i] += pace;
			}
		}
	}
	for (int i = 0; i < n; i++) {
		out[i].samples = count[i];
		out[i].backwards = ext[i].backwards;
		out[i].wraps = ext[i].wraps;
		/* Event sources: the first event only starts the count. */
		estimate(&out[i], samples[i], count[i]);
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

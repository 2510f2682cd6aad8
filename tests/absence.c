/* Watches measurement windows for the vCPU's and the emulator's absences
 * (see absence.h). It must not judge a device; it only says when nothing
 * could have run. */
#include "absence.h"
#include "arch-x86/cpu.h"
#include "drivers/rtc.h"
#include "lib/printf.h"

/* The witness's polls: the TSC of each flag seen, and of the last poll
 * before it that did not see one (the flag was not yet set then). */
static u64 seen_at[WATCH_SIGHTINGS], clear_at[WATCH_SIGHTINGS];
static u64 last_clear;
static bool in_use;
/* The witness's state, told by watch_witness_what: formatted only when a
 * report asks (watch_begin runs once per oneshot round, and an snprintf_
 * is a trip to CPL 3, ~0.1 ms under kvm_pvm). */
static enum { WHAT_NO_FLAG, WHAT_NOT_WATCHED, WHAT_FLAG, WHAT_IRQ } what_kind;
static u64 what_hz;
static char what[64];
static struct watch_totals totals;

static bool witness_runs(u64 *hz)
{
	u8 a = cmos_read(RTC_REG_A), b = cmos_read(RTC_REG_B);
	u8 rate = a & REG_A_RATE_MASK;

	if (a == 0xFF || !(b & REG_B_PIE) || rate < 3) {
		what_kind = WHAT_NO_FLAG;
		return false;
	}
	*hz = RTC_RATE_HZ(rate);
	return true;
}

void watch_begin(struct watch *w, u64 period, bool witness)
{
	u64 hz = 0;

	w->witness = witness && !in_use && witness_runs(&hz);
	w->sighted = false;
	if (!witness)
		what_kind = WHAT_NOT_WATCHED;
	w->nsight = w->overflow = 0;
	gaps_init(&w->emulator);
	gaps_init(&w->all);
	if (w->witness) {
		in_use = true;
		w->rtc_period = tsc_hz() / hz;
		what_kind = WHAT_FLAG;
		what_hz = hz;
		(void)cmos_read(RTC_REG_C);	/* a flag from before the window is not ours */
	}
	w->polls = w->coarse_polls = 0;
	w->coarse = false;
	gaps_init(&w->far);
	steal_begin(&w->cpu, period);
	last_clear = w->cpu.start;
	w->next_rtc = w->cpu.start;
}

void watch_begin_halted(struct watch *w)
{
	w->witness = w->sighted = false;
	w->nsight = w->overflow = 0;
	gaps_init(&w->emulator);
	gaps_init(&w->all);
	w->polls = w->coarse_polls = 0;
	w->coarse = false;
	steal_begin(&w->cpu, 0);
}

void watch_begin_sighted(struct watch *w, u64 period, u64 hz)
{
	watch_begin(w, period, false);
	if (in_use || !hz)
		return;
	in_use = true;
	w->witness = w->sighted = true;
	w->rtc_period = tsc_hz() / hz;
	what_kind = WHAT_IRQ;
	what_hz = hz;
}

void watch_sight(struct watch *w, u64 seen, u64 clear)
{
	if (!w->sighted || seen < w->cpu.start)
		return;
	if (w->nsight < WATCH_SIGHTINGS) {
		seen_at[w->nsight] = seen;
		clear_at[w->nsight++] = clear;
	} else {
		w->overflow++;
	}
}

void watch_share(struct watch *w, const struct watch *from)
{
	w->witness = from->witness;
	w->sighted = from->sighted;
	w->emulator = from->emulator;
	gaps_remove(&w->emulator, 0, w->cpu.start);
	gaps_remove(&w->emulator, w->cpu.last, UINT64_MAX);
	gaps_init(&w->all);
	gaps_union(&w->all, &w->cpu.absent);
	gaps_union(&w->all, &w->emulator);
}

/* A step between two polls, for the polls' pace (watch_end). */
static void pace(struct watch *w, u64 before, u64 now)
{
	u64 step = now - before, P = w->cpu.period;

	w->polls++;
	if (!P || step < P / STEAL_RECORD_DIV)
		return;
	w->coarse_polls++;
	if (step >= P / 2)
		gaps_add(&w->far, before, now);
}

u64 watch_poll(struct watch *w)
{
	u64 before = w->cpu.last, now = steal_poll(&w->cpu);

	pace(w, before, now);
	if (!w->witness || w->sighted || now < w->next_rtc)
		return now;
	/* Sixteen polls per RTC period: the flag's time is known to 1/16
	 * of a period, far below the tick periods it excuses. */
	w->next_rtc = now + w->rtc_period / 16;
	if (!(cmos_read(RTC_REG_C) & REG_C_PF)) {
		last_clear = now;
	} else if (w->nsight < WATCH_SIGHTINGS) {
		seen_at[w->nsight] = now;
		clear_at[w->nsight++] = last_clear;
	} else {
		w->overflow++;
	}
	return now;
}

/*
 * The flags' grid d_k = base + k P. A flag is never set early, and most
 * come on time: their phases (time since the first flag, modulo P) crowd
 * into one sixteenth of a period, the earliest of which is taken as the
 * grid's phase. (Were that crowd late itself, every interval below would
 * come out shorter: an excuse can only shrink.) Then each stretch between
 * two flags: when the first due point after the earlier flag is well
 * before the last poll that still found the flag clear, the main loop did
 * not run from some time after it set the earlier flag (it was seen then;
 * when it stopped is not known) until it set this one, some time before
 * the poll that saw it: an event due in that stretch could have been
 * raised only when the main loop came back, together with the others.
 * Linear in the flags seen: under a software KVM every instruction costs
 * microseconds.
 */
#define PHASE_BINS	16
/* A main-loop timer fires some tens of microseconds after it is due even
 * on an idle host, and the witness polls sixteen times a period: a flag
 * counts as held up only when it was still clear an eighth of a period
 * (0.5 ms at 256 Hz) after it was due. */
#define EMULATOR_LATE_DIV	8

/*
 * The window's ends, where no grid is needed: register C was read (the
 * flag cleared) when the window began, and a flag is due at least once a
 * period, so a flag still clear more than a period and an eighth after
 * the window began (or after the last flag seen) means the main loop did
 * not run from then until that poll. Without these, a main loop that
 * stopped before the first flag or after the last one, or for the whole
 * window (no flag, or one), went unseen.
 */
static void emulator_edges(struct watch *w)
{
	u64 P = w->rtc_period, n = w->nsight, late = P + P / EMULATOR_LATE_DIV;
	u64 first_clear = n ? clear_at[0] : last_clear, after = n ? seen_at[n - 1] : w->cpu.start;

	if (first_clear > w->cpu.start + late)
		gaps_add(&w->emulator, w->cpu.start, n ? seen_at[0] : first_clear);
	if (n && !w->overflow && last_clear > after + late)
		gaps_add(&w->emulator, after, last_clear);
}

static void emulator_gaps(struct watch *w)
{
	u64 P = w->rtc_period, n = w->nsight, base, first[PHASE_BINS];
	u32 count[PHASE_BINS] = { 0 };
	int best = 0;

	if (P < PHASE_BINS)
		return;
	emulator_edges(w);
	if (n < 2)
		return;
	for (int b = 0; b < PHASE_BINS; b++)
		first[b] = P;
	for (u64 i = 0; i < n; i++) {
		u64 r = (seen_at[i] - seen_at[0]) % P;
		int b = (int)(r * PHASE_BINS / P);

		count[b]++;
		first[b] = MIN(first[b], r);
	}
	for (int b = 1; b < PHASE_BINS; b++)
		if (count[b] > count[best])
			best = b;
	/* One period before the grid point at that phase: every flag seen
	 * is after it. */
	base = seen_at[0] + first[best] - P;
	/*
	 * The earlier flag's own due point is the grid point at or before it,
	 * or one up to an eighth of a period after it: phases are taken from
	 * the first flag, itself seen up to a poll late, so flags seen a
	 * little earlier in their period than the first one fall in the bin
	 * before the busiest, after the grid point that bin gives. Taken as
	 * the point before, d was that flag's own due point, and the stretch
	 * to the next flag looked like the main loop away for most of a
	 * period, every period (82 ms of a 200 ms window under icount, where
	 * nothing is ever away, once the polls drifted across the first
	 * flag's phase). The main loop was last known to run when it set the
	 * earlier flag, which is after the poll before it found the flag
	 * clear, not when a poll saw it set (up to 1/16 of a period later):
	 * the absence may have begun as early as that poll.
	 */
	for (u64 i = 1; i < n; i++) {
		u64 d = base + ((seen_at[i - 1] + P / EMULATOR_LATE_DIV - base) / P + 1) * P;

		if (clear_at[i] > d + P / EMULATOR_LATE_DIV)
			gaps_add(&w->emulator, clear_at[i - 1], seen_at[i]);
	}
}

/*
 * The vCPU's gaps are kept from an eighth of the period (alone they cannot
 * coalesce two ticks, but joined with others they can), and gaps that
 * touch, or lie less than that apart, are joined: the polls between them
 * are too brief to be counted on to take a tick. That holds while a poll
 * is far quicker than an eighth of a period, so that such a step stands
 * out as an absence. Under kvm_pvm, where ring-0 code is interpreted and
 * every port read is an exit, a turn of the periodic windows' loop (two
 * devices' polls, the witness's register C read, the RTC edge catcher)
 * takes 0.25-2 ms: at 250 Hz, with gaps kept from 0.5 ms, each window's
 * turns joined into one or a few "absences" covering 190-200 ms of its
 * 200, and 45-49 of its 50 ticks were excused with no step of a period
 * (hpet.periodic.excused = 47, "this vCPU (0 ms in 0 gaps)"), every one of
 * the three windows alike, while none was lost and none came more than
 * 1.1 ms late. There a step is the loop running, not the vCPU away: when
 * one poll in WATCH_COARSE_DIV (10 % of the polls; a loaded TCG host's
 * absences are rarer, its polls microseconds) took an eighth of a period
 * or more, the vCPU's absences are its steps of half a period or more.
 * Such a step, with the vCPU present at both ends, holds at most one
 * grid point, and still does widened by a median lateness under half a
 * period: it excuses a tick only when it touches another absence.
 */
#define WATCH_COARSE_DIV	10
/* A window of fewer polls shows too little of its pace to tell (a oneshot
 * round polls a few times, its watch keeping gaps from 1 ms). */
#define WATCH_COARSE_MIN_POLLS	64

void watch_end(struct watch *w)
{
	u64 before = w->cpu.last;

	steal_end(&w->cpu);
	pace(w, before, w->cpu.last);
	w->coarse = w->polls >= WATCH_COARSE_MIN_POLLS &&
		    w->coarse_polls * WATCH_COARSE_DIV >= w->polls;
	if (w->coarse)
		w->cpu.absent = w->far;
	if (w->witness) {
		emulator_gaps(w);
		in_use = false;
	}
	gaps_union(&w->all, &w->cpu.absent);
	gaps_union(&w->all, &w->emulator);
	if (w->witness) {
		totals.windows++;
		totals.watched += w->cpu.last - w->cpu.start;
		totals.emulator_only += watch_emulator_only(w);
		totals.longest = MAX(totals.longest, gaps_longest(&w->emulator));
		totals.flags += w->nsight + w->overflow;
	}
}

const struct watch_totals *watch_totals(void)
{
	return &totals;
}

void watch_until(struct watch *w, u64 end)
{
	while (watch_poll(w) < end)
		cpu_relax();
}

u64 watch_emulator_only(const struct watch *w)
{
	struct gapset only = w->emulator;

	for (int i = 0; i < w->cpu.absent.n; i++)
		gaps_remove(&only, w->cpu.absent.start[i], w->cpu.absent.end[i]);
	return gaps_total(&only);
}

const char *watch_witness_what(const struct watch *w)
{
	static const char *const text[] = {
		[WHAT_NO_FLAG] = "no RTC periodic flag to watch the emulator by",
		[WHAT_NOT_WATCHED] = "emulator not watched (the RTC is under test)",
		[WHAT_FLAG] = "RTC periodic flag at %lu Hz",
		[WHAT_IRQ] = "RTC interrupt at %lu Hz",
	};

	(void)w;
	snprintf_(what, sizeof(what), text[what_kind], what_hz);
	return what;
}

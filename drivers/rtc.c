/* The CMOS RTC: the date at boot, its periodic flag as the "rtc" event
 * source, IRQ8 as the "rtc" clockevent. It must not wait for an update
 * without a bound, nor keep the clockevent's register settings after it. */
#include "rtc.h"
#include "arch-x86/acpi.h"
#include "arch-x86/cpu.h"
#include "arch-x86/delay.h"
#include "lib/printf.h"
#include "lib/stats.h"
#include "tick/clocksource.h"
#include "tick/clockevent.h"
#include "arch-x86/idt.h"
#include "arch-x86/ioapic.h"
#include "arch-x86/lapic.h"

static char reason[96];
static u64 read_retries;	/* passes read again because two disagreed */
/* Registers selected (cmos_read, cmos_write, IRQ8's handler among them):
 * edge_wait and an edge being caught keep register A selected between
 * their polls, and must know when that changed. */
static volatile u32 cmos_selects;

u8 cmos_read(u8 reg)
{
	cmos_selects++;
	outb(CMOS_INDEX, reg);
	return inb(CMOS_DATA);
}

void cmos_write(u8 reg, u8 v)
{
	cmos_selects++;
	outb(CMOS_INDEX, reg);
	outb(CMOS_DATA, v);
}

int rtc_decode(u8 raw, u8 regb)
{
	return regb & REG_B_BINARY ? raw : (raw & 0xF) + (raw >> 4) * 10;
}

/*
 * Waits until UIP reads clear, for at most RTC_UIP_WAIT_US of this vCPU's
 * own polling: a step between two reads longer than a millisecond is the
 * host keeping the vCPU away (UIP cannot last that long unseen and come
 * back), and is not counted (two loaded -smp 2 TCG boots in 56 read
 * "never cleared within 10 ms" while UIP lasts 2 ms). A second of TSC
 * bounds the loop whatever the host does.
 */
static bool wait_no_uip(void)
{
	u64 prev = rdtsc_ordered(), polled = 0, step = ns_to_tsc(1000000);
	u64 limit = ns_to_tsc(RTC_UIP_WAIT_US * 1000ull), cap = prev + ns_to_tsc(1000000000ull);

	while (cmos_read(RTC_REG_A) & REG_A_UIP) {
		u64 now = rdtsc_ordered();

		if (now - prev < step)
			polled += now - prev;
		prev = now;
		if (polled > limit || now > cap)
			return false;
	}
	return true;
}

/*
 * One pass over the date and time. False when a register was selected
 * by someone else meanwhile (IRQ8's handler selects register C, and so may
 * another CPU): a read may then have returned that register, which reads 0
 * once its flags are cleared (a loaded TCG run once read 0000-00-00).
 * These registers have no side effect on read, so the pass is simply
 * read again; register C is never read twice for one flag.
 */
static bool read_raw(u8 r[7], u8 century_reg)
{
	u32 sel = cmos_selects;

	r[0] = cmos_read(RTC_SECONDS);
	r[1] = cmos_read(RTC_MINUTES);
	r[2] = cmos_read(RTC_HOURS);
	r[3] = cmos_read(RTC_DAY);
	r[4] = cmos_read(RTC_MONTH);
	r[5] = cmos_read(RTC_YEAR);
	r[6] = century_reg ? cmos_read(century_reg) : 0;
	return cmos_selects - sel == (century_reg ? 7u : 6u);
}

int rtc_read(const struct acpi_info *ai, struct rtc_time *t, const char **why)
{
	u8 a[7], b[7], regb;
	u8 century_reg = ai && ai->fadt && ai->century_reg >= 0x0E && ai->century_reg < 0x80 ?
			 ai->century_reg : 0;
	int tries, hour;
	bool pm, uip = false;

	*why = reason;
	regb = cmos_read(RTC_REG_B);
	if (regb == 0xFF && cmos_read(RTC_REG_A) == 0xFF) {
		snprintf_(reason, sizeof(reason), "no CMOS RTC answers (registers read 0xFF)");
		return -ENODEV;
	}
	/* Two identical passes, each started with no update in progress. */
	for (tries = 0; tries < 5; tries++) {
		uip = !wait_no_uip();
		if (uip)
			break;
		bool clean = read_raw(a, century_reg);

		uip = !wait_no_uip();
		if (uip)
			break;
		clean &= read_raw(b, century_reg);
		if (clean && !__builtin_memcmp(a, b, sizeof(a)))
			break;
		read_retries++;
	}
	if (tries == 5) {
		snprintf_(reason, sizeof(reason), "5 pairs of passes over the date and time "
			  "disagreed or had another register selected in them");
		return -ETIMEDOUT;
	}
	if (uip) {
		snprintf_(reason, sizeof(reason), "update-in-progress never cleared within %u ms "
			  "of polling", RTC_UIP_WAIT_US / 1000);
		return -ETIMEDOUT;
	}
	pm = a[2] & HOURS_PM;
	a[2] &= (u8)~HOURS_PM;
	for (int i = 0; i < 7; i++)
		a[i] = (u8)rtc_decode(a[i], regb);
	hour = a[2];
	if (!(regb & REG_B_24H)) {
		/* 12-hour: 12 AM is 0, 12 PM is 12. */
		hour %= 12;
		if (pm)
			hour += 12;
	}
	t->second = a[0];
	t->minute = a[1];
	t->hour = hour;
	t->day = a[3];
	t->month = a[4];
	t->year = (century_reg ? a[6] : 20) * 100 + a[5];
	if (t->second > 59 || t->minute > 59 || t->hour > 23 || t->day < 1 || t->day > 31 ||
	    t->month < 1 || t->month > 12 || t->year < 1970) {
		snprintf_(reason, sizeof(reason),
			  "impossible date %04d-%02d-%02d %02d:%02d:%02d (reg B 0x%x)", t->year,
			  t->month, t->day, t->hour, t->minute, t->second, regb);
		return -EIO;
	}
	return 0;
}

u64 rtc_read_retries(void)
{
	return read_retries;
}

u64 rtc_to_unix(const struct rtc_time *t)
{
	/* Howard Hinnant's days_from_civil, for years >= 1970. */
	s64 y = t->year - (t->month <= 2);
	s64 era = y / 400;
	s64 yoe = y - era * 400;
	s64 mp = (t->month + 9) % 12;
	s64 doy = (153 * mp + 2) / 5 + t->day - 1;
	s64 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	s64 days = era * 146097 + doe - 719468;

	return (u64)(days * 86400 + t->hour * 3600 + t->minute * 60 + t->second);
}

/* One poll of register A (and, with UIP low, the seconds), bracketed. */
static u8 poll_uip(u64 *a, u64 *b, u8 *sec)
{
	u8 ra;

	*a = rdtsc_ordered();
	ra = cmos_read(RTC_REG_A);
	if (!(ra & REG_A_UIP))
		*sec = cmos_read(RTC_SECONDS);
	*b = rdtsc_ordered();
	return ra & REG_A_UIP;
}

/*
 * An edge's deadline counts this vCPU's presence: steps of RTC_AWAY_MS and
 * more between the deadline's checks (the host kept us away; rtc_read's
 * own waits are shorter) extend it, up to RTC_EDGE_WAIT_MAX_US in all.
 */
#define RTC_AWAY_MS		20
#define RTC_EDGE_WAIT_MAX_US	(4 * RTC_EDGE_WAIT_US)

struct edge_deadline {
	struct steal away;
	u64 end, hard;
};

static bool edge_late(struct edge_deadline *d)
{
	u64 now = steal_poll(&d->away);

	return now > d->end + d->away.cycles || now > d->hard;
}

static int edge_wait(const struct acpi_info *ai, struct rtc_edge *e, const char **why,
		     struct edge_deadline *d)
{
	u64 lead, gap, lo, hi, a, b;
	u32 sel;
	struct rtc_time t;
	u8 s0 = 0, sec = 0, ra, regb = cmos_read(RTC_REG_B);
	int rc;

	*e = (struct rtc_edge){ 0 };
	steal_begin(&d->away, ns_to_tsc(RTC_AWAY_MS * 1000000ull));
	d->end = d->away.start + ns_to_tsc(RTC_EDGE_WAIT_US * 1000ull);
	d->hard = d->away.start + ns_to_tsc(RTC_EDGE_WAIT_MAX_US * 1000ull);
	lead = ns_to_tsc(RTC_UIP_LEAD_NS);
	/* The time, then a poll that sees UIP low and the same second: the
	 * transfer timed below is the next one, to the second after. */
	do {
		/* QEMU holds UIP until its update timer has run on the main
		 * loop, which on a busy host outlasts rtc_read's 10 ms: read
		 * again until the edge's own deadline. */
		do {
			rc = rtc_read(ai, &t, why);
		} while (rc == -ETIMEDOUT && !edge_late(d));
		if (rc)
			return rc;
		if (edge_late(d))
			goto timeout;
	} while (poll_uip(&lo, &b, &s0) || rtc_decode(s0, regb) != t.second);
	*why = reason;
	/*
	 * A poll that sees UIP low and the old second puts the transfer at
	 * least 244 us after it began; one that sees UIP high puts it at
	 * most 244 us after it ended, one that sees the new second (UIP
	 * missed: the vCPU did not run through its 244 us) at its end.
	 *
	 * Register A stays selected, so that a poll is one port read (one
	 * exit where ports trap, not four: the faster the polls, the less
	 * often UIP is missed and the edge taken again a second later). A
	 * poll that sees UIP low is still before the transfer when it came
	 * less than 244 us after the last poll known to be (UIP would have
	 * been high in between; half that, for margin); after a longer gap
	 * the seconds are read to know.
	 */
	gap = lead / 2;
	sel = ++cmos_selects;
	outb(CMOS_INDEX, RTC_REG_A);
	for (;;) {
		a = rdtsc_ordered();
		ra = inb(CMOS_DATA);
		b = rdtsc_ordered();
		/* IRQ8's handler selected register C in between: this read
		 * may be of that, so it does not count. */
		if (cmos_selects != sel) {
			sel = ++cmos_selects;
			outb(CMOS_INDEX, RTC_REG_A);
			if (edge_late(d))
				goto timeout;
			continue;
		}
		if (ra & REG_A_UIP) {
			hi = b + lead;
			break;
		}
		if (b - lo > gap) {
			sec = cmos_read(RTC_SECONDS);
			b = rdtsc_ordered();
			sel = ++cmos_selects;
			outb(CMOS_INDEX, RTC_REG_A);
			if (sec != s0) {
				hi = b;
				break;
			}
		}
		if (edge_late(d))
			goto timeout;
		lo = a;
	}
	lo += lead;
	hi = MAX(hi, lo);
	e->unc = (hi - lo) / 2;
	e->tsc = lo + e->unc;
	e->unix_s = rtc_to_unix(&t) + 1;
	return 0;
timeout:
	*why = reason;
	return -ETIMEDOUT;
}

static int one_edge(const struct acpi_info *ai, struct rtc_edge *e, const char **why)
{
	struct edge_deadline d;
	int rc = edge_wait(ai, e, why, &d);

	steal_end(&d.away);
	if (rc == -ETIMEDOUT)
		snprintf_(reason, sizeof(reason), "the RTC's second did not turn within %u ms of "
			  "this vCPU's presence (%lu ms away besides)", RTC_EDGE_WAIT_US / 1000,
			  tsc_to_ns(d.away.cycles) / 1000000);
	return rc;
}

static struct rtc_edge last_edge;
/* The last edges placed within RTC_UIP_LEAD_NS, the newest last: a pair
 * caught early survives a test taking a single edge later. */
#define PLACED_KEPT		4
static struct rtc_edge placed[PLACED_KEPT];

static void edge_taken(const struct rtc_edge *e)
{
	last_edge = *e;
	if (tsc_to_ns(e->unc) > RTC_UIP_LEAD_NS)
		return;
	for (int i = 1; i < PLACED_KEPT; i++)
		placed[i - 1] = placed[i];
	placed[PLACED_KEPT - 1] = *e;
}

bool rtc_last_edge(struct rtc_edge *e)
{
	*e = last_edge;
	return last_edge.tsc != 0;
}

bool rtc_edge_pair(struct rtc_edge *e0, struct rtc_edge *e1)
{
	for (int i = PLACED_KEPT - 1; i > 0; i--)
		if (placed[i - 1].tsc && placed[i].unix_s == placed[i - 1].unix_s + 1) {
			*e0 = placed[i - 1];
			*e1 = placed[i];
			return true;
		}
	return false;
}

/* ---- catching edges in another loop ---- */

/* Polling starts this long before the next edge is due a second after the
 * last (the RTC's and the ruler's rates are known far better than that). */
#define CATCH_NEAR_NS		20000000ull
#define CATCH_LOST_NS		30000000000ull
/* A pair caught is kept when both edges are placed within RTC_UIP_LEAD_NS
 * (as rtc.date takes its own edge) and one of them as well as edge_wait
 * places edges here: within this, or taken by rtc_edge_catch_end's own
 * loop, which polls as edge_wait does (one port read a turn: ~50 us
 * under kvm_pvm on an idle host, ~77 at load 6). tick.walltime places
 * both by every edge it saw, each carried by the ruler to the other's
 * second within its allowance per second (tens of ppm against a known
 * truth), so the wider edge is then placed within the narrow one's
 * bracket and that. The windows' loop polls less often than edge_wait
 * where every poll is an exit (KVM: ~290 us apart, edges placed to ~150
 * us); the edge after such an edge is what rtc_edge_catch_end waits for. */
#define CATCH_UNC_NS		50000ull
/*
 * ... or as well as the catcher's own tight loop (rtc_edge_catch_wait)
 * places edges on this host, measured when catching begins over this many
 * polls: 50 us is what a loop's polls reach under TCG, where the tight
 * loop places edges to a few us; under kvm_pvm, where every poll is an
 * exit, the tight loop placed them within 73-106 us (default KVM runs,
 * their rtc.date and tick.walltime edges), the windows' loop within
 * 73-166 us, so no edge the loop placed counted and every pair waited
 * for its narrow edge, idle (17-74 ms a default KVM run).
 */
#define CATCH_PROBE_POLLS	16
/* The wider edge of a pair may be placed this widely by its own polls
 * (the windows' loop under KVM at load 2: ~290 us, polls ~580 us apart),
 * and is then placed by the narrow one carried a second by the ruler
 * within CATCH_RATE_NS (an RTC off by more loses the pair, and is judged
 * by the edges tick.walltime waits for then): what tick.walltime's own
 * placement by every edge (within its tens of ppm) narrows further. */
#define CATCH_WIDE_NS		1000000ull
#define CATCH_RATE_NS		100000ull
/* Two edges caught are kept when a second apart to this (5000 ppm). */
#define CATCH_PAIR_NS		5000000ull
/* rtc_edge_catch_end waits this much past a second after the last edge. */
#define CATCH_END_SLACK_NS	50000000ull
/* Register A is read at most this often (the edge is placed to half of
 * it: 2 us placed it to 1 us under icount, where edge_wait's polls place
 * it to 0), one port read a poll, as edge_wait's. */
#define CATCH_POLL_NS		500ull

static struct {
	bool on, turned;	/* turned: UIP seen high, the new second not yet read */
	bool paired;		/* rtc_edge_pair holds a pair: nothing more to poll */
	bool tight;		/* polled by rtc_edge_catch_end's own loop */
	bool prev_narrow;	/* prev placed as edge_wait places edges */
	u64 lo;			/* a poll that saw UIP low in second s0 */
	u64 near;		/* no polls before this TSC */
	u64 last;		/* the last poll */
	u64 pa, pb;		/* its bracket (TSC) */
	u32 sel;		/* cmos_selects when register A was selected */
	struct rtc_edge prev;	/* the last edge caught, not yet confirmed */
	struct rtc_catch_stats st;
	u64 unix_s;		/* the second s0 is */
	u8 s0, regb;
} cat;

/* The seconds, read again while IRQ8's handler intervened (it may have
 * selected another register in between); s0, as if unchanged, when it
 * kept intervening. */
static u8 catch_seconds(void)
{
	for (int i = 0; i < 8; i++) {
		u32 sel = ++cmos_selects;
		u8 v;

		outb(CMOS_INDEX, RTC_SECONDS);
		v = inb(CMOS_DATA);
		if (cmos_selects == sel)
			return v;
	}
	return cat.s0;
}

/* How well the tight loop places an edge here: the median, over
 * CATCH_PROBE_POLLS of its polls, of half the span from one poll's start
 * to the next one's end (an edge between the two is placed within that);
 * at least CATCH_UNC_NS. An edge those polls see is caught, tightly. */
static u64 probe_tight(void)
{
	u64 h[CATCH_PROBE_POLLS - 1], pa = 0;
	int n = 0;

	cat.tight = true;
	for (int i = 0; i < CATCH_PROBE_POLLS && cat.on && !cat.paired; i++) {
		cat.last = 0;	/* every call polls */
		rtc_edge_catch_poll();
		if (i)
			h[n++] = (cat.pb - pa) / 2;
		pa = cat.pa;
	}
	cat.tight = false;
	return n ? MAX(tsc_to_ns(select_u64(h, (size_t)n, (size_t)n / 2)), CATCH_UNC_NS) :
	       CATCH_UNC_NS;
}

void rtc_edge_catch_begin(const struct acpi_info *ai)
{
	struct rtc_edge e0, e1;
	struct rtc_time t;
	const char *why;
	u64 b;

	cat = (typeof(cat)){ 0 };
	if (rtc_read(ai, &t, &why))
		return;
	cat.regb = cmos_read(RTC_REG_B);
	/* The transfer caught next is the one after this second. */
	if (poll_uip(&cat.lo, &b, &cat.s0) || rtc_decode(cat.s0, cat.regb) != t.second)
		return;
	cat.unix_s = rtc_to_unix(&t);
	cat.on = true;
	cat.paired = rtc_edge_pair(&e0, &e1);
	cat.st.narrow_ns = probe_tight();	/* as well as the tight loop places edges here */
}

bool rtc_edge_catch_wait(void)
{
	u64 near = cat.near, end = near + ns_to_tsc(CATCH_NEAR_NS + CATCH_END_SLACK_NS);
	bool paired = false;

	/* Until a pair is held or the edge came (no other can before the
	 * end: once it came the catcher polls again only near the next).
	 * With no edge kept before it (the last placed more widely than a
	 * pair allows, but within 5 ms), the edge is only the next pair's
	 * narrow first. */
	cat.tight = true;
	while (cat.on && cat.near && !(paired = rtc_edge_catch_poll()) && cat.near == near &&
	       rdtsc_ordered() < end)
		cpu_relax();
	cat.tight = false;
	return paired;
}

void rtc_edge_catch_end(bool pair)
{
	if (pair && cat.prev.tsc)
		rtc_edge_catch_wait();
	cat.on = false;
}

u64 rtc_edge_catch_near(void)
{
	return cat.on && !cat.paired ? cat.near : 0;
}

/*
 * The wider edge w of a pair placed by the narrow one n as well: n carried
 * a second (later when later) by the ruler, within CATCH_RATE_NS more, must
 * meet w, and w becomes where they meet. False when they do not meet or
 * either is then wider than RTC_UIP_LEAD_NS.
 */
static bool place_by(struct rtc_edge *w, const struct rtc_edge *n, bool later)
{
	u64 sec = ns_to_tsc(1000000000ull), h = n->unc + ns_to_tsc(CATCH_RATE_NS);
	u64 c = later ? n->tsc + sec : n->tsc - sec;
	u64 lo = MAX(w->tsc - w->unc, c - h), hi = MIN(w->tsc + w->unc, c + h);

	if (lo > hi)
		return false;
	w->unc = (hi - lo) / 2;
	w->tsc = lo + w->unc;
	return tsc_to_ns(w->unc) <= RTC_UIP_LEAD_NS && tsc_to_ns(n->unc) <= RTC_UIP_LEAD_NS;
}

/* An edge in [lo, hi] (TSC), of the second after s0's: kept when placed
 * within RTC_UIP_LEAD_NS (a wider one is the host's doing, or spans more
 * than one second); the next is then polled for from shortly before it
 * is due. */
static void catch_edge(u64 lo, u64 hi)
{
	struct rtc_edge e = { 0 };
	bool narrow;

	hi = MAX(hi, lo);
	e.unc = (hi - lo) / 2;
	e.tsc = lo + e.unc;
	e.unix_s = cat.unix_s + 1;
	cat.st.min_unc_ns = cat.st.edges++ ? MIN(cat.st.min_unc_ns, tsc_to_ns(e.unc)) :
			    tsc_to_ns(e.unc);
	cat.st.max_unc_ns = MAX(cat.st.max_unc_ns, tsc_to_ns(e.unc));
	if (tsc_to_ns(e.unc) > CATCH_WIDE_NS) {
		/* Not kept; but the next is due a second after it, and is
		 * polled for (or waited for: rtc_edge_catch_wait) from near
		 * it, not from an edge already past, when this one is placed
		 * well within the catcher's lead. */
		if (tsc_to_ns(e.unc) <= CATCH_NEAR_NS / 4)
			cat.near = e.tsc + ns_to_tsc(1000000000ull - CATCH_NEAR_NS);
		cat.prev_narrow = false;	/* prev is no longer the last second */
		return;
	}
	narrow = tsc_to_ns(e.unc) <= RTC_UIP_LEAD_NS &&
		 (cat.tight || tsc_to_ns(e.unc) <= cat.st.narrow_ns);
	/* Kept only as a pair a second apart (to CATCH_PAIR_NS) by the
	 * ruler: each confirms the other's placement and second. A pair
	 * further apart (an RTC off its rate, or a misread) is left to
	 * rtc_second_edge's own waits. */
	if (cat.prev.tsc && cat.prev.unix_s + 1 == e.unix_s &&
	    (narrow || cat.prev_narrow) &&
	    tsc_to_ns(e.tsc - cat.prev.tsc) >= 1000000000ull - CATCH_PAIR_NS &&
	    tsc_to_ns(e.tsc - cat.prev.tsc) <= 1000000000ull + CATCH_PAIR_NS) {
		struct rtc_edge a = cat.prev, b = e;

		if (narrow ? place_by(&a, &b, false) : place_by(&b, &a, true)) {
			edge_taken(&a);
			edge_taken(&b);
			cat.paired = true;
		}
	}
	cat.prev = e;
	cat.prev_narrow = narrow;
	cat.near = e.tsc + ns_to_tsc(1000000000ull - CATCH_NEAR_NS);
}

void rtc_edge_catch_stats(struct rtc_catch_stats *st)
{
	*st = cat.st;
	st->paired = cat.paired;
	st->last_narrow = cat.prev.tsc && cat.prev_narrow;
}

bool rtc_edge_catch_last(struct rtc_edge *e)
{
	*e = cat.prev;
	return cat.prev.tsc != 0;
}

/* The seconds now read sec: the second count moves on by as many. */
static void catch_second(u8 sec)
{
	int d = (rtc_decode(sec, cat.regb) - rtc_decode(cat.s0, cat.regb) + 60) % 60;

	cat.unix_s += (u64)d;
	cat.s0 = sec;
}

bool rtc_edge_catch_poll(void)
{
	u64 a, b, lead = ns_to_tsc(RTC_UIP_LEAD_NS);
	u8 ra, sec;

	/* Called on every turn of a measurement loop: a flag, not a search
	 * of the edges kept (an instruction costs a microsecond where a
	 * hypervisor interprets them). */
	if (!cat.on)
		return false;
	if (cat.paired)
		return true;
	a = rdtsc_ordered();
	if (a < cat.near || a - cat.last < ns_to_tsc(CATCH_POLL_NS))
		return false;
	cat.last = a;
	/* One port read a poll, as in edge_wait: register A stays selected
	 * (IRQ8's handler selects it again while catching). */
	if (cat.sel != cmos_selects) {
		outb(CMOS_INDEX, RTC_REG_A);
		cat.sel = cmos_selects;
	}
	ra = inb(CMOS_DATA);
	b = rdtsc_ordered();
	cat.pa = a;
	cat.pb = b;
	/* Seconds are counted modulo a minute: after half of one unseen,
	 * the count is not trusted and catching stops. */
	if (b - cat.lo > ns_to_tsc(CATCH_LOST_NS)) {
		cat.on = false;
		return false;
	}
	if (ra & REG_A_UIP) {
		/* As in edge_wait: the transfer at most 244 us after this
		 * poll, at least 244 us after the last that saw UIP low. */
		if (!cat.turned)
			catch_edge(cat.lo + lead, b + lead);
		cat.turned = true;
		return false;
	}
	if (cat.turned) {
		/* The second that began at the edge: from here on, s0. */
		sec = catch_seconds();
		if (sec != cat.s0) {
			catch_second(sec);
			cat.turned = false;
			cat.lo = a;
		}
		return false;
	}
	if (b - cat.lo > lead / 2) {
		/* UIP may have come and gone unseen since the last poll. */
		sec = catch_seconds();
		b = rdtsc_ordered();
		if (sec != cat.s0) {
			if (rtc_decode(sec, cat.regb) == (rtc_decode(cat.s0, cat.regb) + 1) % 60)
				catch_edge(cat.lo + lead, b);
			catch_second(sec);
			cat.lo = b;
			return false;
		}
	}
	cat.lo = a;
	return false;
}

int rtc_second_edge(const struct acpi_info *ai, struct rtc_edge *e, const char **why)
{
	return rtc_edge_within(ai, e, RTC_UIP_LEAD_NS, RTC_EDGE_TRIES, why);
}

int rtc_edge_within(const struct acpi_info *ai, struct rtc_edge *e, u64 max_unc_ns, int tries,
		    const char **why)
{
	int rc = 0, retaken = 0;

	for (int i = 0; i < tries; i++) {
		if (i)
			retaken++;
		rc = one_edge(ai, e, why);
		if (rc || tsc_to_ns(e->unc) <= max_unc_ns)
			break;
	}
	e->retaken = retaken;
	if (!rc)
		edge_taken(e);
	return rc;
}

/* The event "counter": flags seen so far. Each read polls register C. */
static u64 flags_seen;

static u64 read_flags(struct clocksource *cs)
{
	(void)cs;
	if (cmos_read(RTC_REG_C) & REG_C_PF)
		flags_seen++;
	return flags_seen;
}

static struct clocksource rtc_cs = {
	.name = "rtc",
	.rating = 50,
	.read = read_flags,
	.mask = ~0ull,
	.flags = CS_EXITS | CS_EVENTS,
	.read_method = "poll register C periodic flag",
};

int rtc_clocksource_init(int rate, const char **why)
{
	u8 a;

	*why = reason;
	a = cmos_read(RTC_REG_A);
	if (a == 0xFF) {
		snprintf_(reason, sizeof(reason), "no CMOS RTC answers (register A reads 0xFF)");
		return -ENODEV;
	}
	/* Keep the divider bits (time base), set the rate, and enable the
	 * periodic interrupt: real chips set PF either way, but QEMU's RTC
	 * only runs its periodic timer while PIE is set. IRQ8 stays masked
	 * at the PIC and IOAPIC, so only the flag is seen. */
	cmos_write(RTC_REG_A, (u8)((a & ~REG_A_RATE_MASK) | rate));
	cmos_write(RTC_REG_B, cmos_read(RTC_REG_B) | REG_B_PIE);
	(void)cmos_read(RTC_REG_C);
	rtc_cs.freq_hz = RTC_RATE_HZ(rate);
	return clocksource_register(&rtc_cs);
}

/* ---- the periodic interrupt (IRQ8) as a clockevent ---- */

static struct clockevent rtc_ce;
static int ce_vector = -1;
static u8 saved_a, saved_b;
static bool running;

static void rtc_irq(struct int_frame *f, void *ctx)
{
	u64 tsc = rdtsc();
	u8 c;

	(void)f;
	(void)ctx;
	/* Reading register C acknowledges IRQ8; only PF is ours. */
	c = cmos_read(RTC_REG_C);
	/* An edge being caught polls register A around this handler. */
	if (cat.on) {
		cmos_selects++;
		outb(CMOS_INDEX, RTC_REG_A);
	}
	if (c & REG_C_PF)
		clockevent_irq(&rtc_ce, tsc);
}

static int rtc_periodic(struct clockevent *ce, u64 hz)
{
	int rate;

	/* Rates are 32768 >> (r - 1) for r = 3..15: 8192 Hz down to 2 Hz. */
	for (rate = 3; rate <= 15; rate++)
		if (RTC_RATE_HZ(rate) == hz)
			break;
	if (rate > 15)
		return -EINVAL;
	if (!running) {
		saved_a = cmos_read(RTC_REG_A);
		saved_b = cmos_read(RTC_REG_B);
	}
	/* PIE off and register C read first: IRQ8 is then low, so the
	 * IOAPIC holds no stale edge when the input is unmasked. */
	cmos_write(RTC_REG_B, saved_b & (u8)~REG_B_PIE);
	cmos_write(RTC_REG_A, (u8)((saved_a & ~REG_A_RATE_MASK) | rate));
	(void)cmos_read(RTC_REG_C);
	if (ioapic_route_isa(8, (u8)ce_vector, lapic_id()) < 0)
		return -EINVAL;
	running = true;
	ce->period_mhz = (u64)RTC_RATE_HZ(rate) * 1000;
	ce->period_ticks = RTC_BASE_HZ / RTC_RATE_HZ(rate);
	cmos_write(RTC_REG_B, saved_b | REG_B_PIE);
	return 0;
}

static void rtc_shutdown(struct clockevent *ce)
{
	(void)ce;
	if (!running)
		return;
	ioapic_mask_isa(8);
	cmos_write(RTC_REG_A, saved_a);
	cmos_write(RTC_REG_B, saved_b);
	(void)cmos_read(RTC_REG_C);
	running = false;
}

static struct clockevent rtc_ce = {
	.name = "rtc",
	.rating = 10,
	.features = CE_PERIODIC,
	.freq_hz = RTC_BASE_HZ,
	.set_periodic = rtc_periodic,
	.shutdown = rtc_shutdown,
};

int rtc_clockevent_init(int nioapics, const char **why)
{
	*why = reason;
	if (cmos_read(RTC_REG_A) == 0xFF) {
		snprintf_(reason, sizeof(reason), "no CMOS RTC answers");
		return -ENODEV;
	}
	if (!nioapics) {
		snprintf_(reason, sizeof(reason), "no IOAPIC to route IRQ8 through (no ACPI MADT)");
		return -ENODEV;
	}
	ce_vector = irq_alloc(rtc_irq, NULL);
	if (ce_vector < 0) {
		snprintf_(reason, sizeof(reason), "no free interrupt vector");
		return -EIO;
	}
	snprintf_(rtc_ce.route, sizeof(rtc_ce.route), "IRQ8 via IOAPIC, vector 0x%x", ce_vector);
	return clockevent_register(&rtc_ce);
}

/* The HPET comparator rules (drivers/hpet_cmp.c) and the -ETIME retry
 * (tick/clockevent.c clockevent_program) against a simulated part that
 * behaves like real hardware, not like QEMU (which fires a comparator
 * already passed): 32-bit counter at 14.31818 MHz, a comparator that
 * fires only when the counter steps onto it, MMIO accesses that take
 * counter ticks, and writes that land some ticks after they leave. */
#include "tests/host/check.h"
#include "drivers/hpet_cmp.h"
#include "tick/clockevent.h"

#define HPET_14M_HZ	14318180ull

struct sim_hpet {
	u64 counter;		/* ticks since the start, unwrapped */
	int width;
	u64 cmp;		/* the comparator as it stands in the part */
	bool armed;
	u64 fired;
	u64 read_cost;		/* ticks the counter moves during a read */
	u64 write_delay;	/* ticks between a write leaving and landing */
	u64 writes;
};

static u64 mask_of(const struct sim_hpet *s)
{
	return s->width == 64 ? ~0ull : (1ull << s->width) - 1;
}

/* Moves the counter on n ticks; the comparator fires each time the
 * counter steps onto its value (equality, once per wrap), never for a
 * value it already passed. */
static void advance(struct sim_hpet *s, u64 n)
{
	u64 m = mask_of(s), to_hit;

	if (!s->armed || n == 0) {
		s->counter += n;
		return;
	}
	/* Ticks until the counter next equals cmp (1 .. range). */
	to_hit = ((s->cmp - s->counter - 1) & m) + 1;
	if (to_hit <= n) {
		s->fired++;
		if (s->width < 64)
			s->fired += (n - to_hit) >> s->width;
	}
	s->counter += n;
}

static u64 sim_read(void *ctx)
{
	struct sim_hpet *s = ctx;

	advance(s, s->read_cost);
	return s->counter & mask_of(s);
}

static void sim_write(void *ctx, u64 v)
{
	struct sim_hpet *s = ctx;

	advance(s, s->write_delay);
	s->cmp = v & mask_of(s);
	s->armed = true;
	s->writes++;
}

static struct sim_hpet sim;
static struct hpet_cmp_dev dev = { .read_counter = sim_read, .write_cmp = sim_write, .ctx = &sim,
				   .margin = HPET_CMP_MARGIN };

static int sim_next(struct clockevent *ce, u64 delta)
{
	u64 cmp;

	(void)ce;
	return hpet_cmp_program(&dev, delta, &cmp);
}

static void reset(int width, u64 counter, u64 read_cost, u64 write_delay)
{
	sim = (struct sim_hpet){ .counter = counter, .width = width, .read_cost = read_cost,
				 .write_delay = write_delay };
	dev.width = width;
}

static void test_passed_extremes(void)
{
	CHECK(hpet_cmp_passed(5, 5, 32));
	CHECK(hpet_cmp_passed(0, 0xFFFFFFFF, 32));		/* across the wrap */
	CHECK(!hpet_cmp_passed(0xFFFFFFFF, 0, 32));
	CHECK(hpet_cmp_passed(0x7FFFFFFF, 0, 32));		/* half the range: passed */
	CHECK(!hpet_cmp_passed(0x80000000, 0, 32));		/* beyond: still ahead */
	/* Bits above the width are not the comparator's. */
	CHECK(hpet_cmp_passed(0x100000005ull, 5, 32));
	CHECK(hpet_cmp_passed(0, UINT64_MAX, 64));
	CHECK(!hpet_cmp_passed(UINT64_MAX, 0, 64));
	CHECK(hpet_cmp_passed(INT64_MAX, 0, 64) && !hpet_cmp_passed(1ull << 63, 0, 64));
}

static void test_equality(void)
{
	u64 cmp;

	/* Fast bus: programmed ahead, fires once when the counter gets there. */
	reset(32, 1000, 2, 0);
	CHECK(hpet_cmp_program(&dev, 1000, &cmp) == 0 && cmp == 1002 + 1000);
	advance(&sim, 997);		/* the counter at 2001 */
	CHECK(sim.fired == 0);
	advance(&sim, 10);
	CHECK(sim.fired == 1);
	/* A slow bus (an SMI, a hypervisor exit: 300 ticks per access,
	 * the write landing 300 ticks late) and Linux's minimum delta of
	 * 192: the comparator lands behind the counter. The re-read says
	 * so, and the part never fires for it, not in 150 s (2^31 ticks) */
	reset(32, 1000, 300, 300);
	CHECK(hpet_cmp_program(&dev, 192, &cmp) == -ETIME && cmp == 1492);
	advance(&sim, 1ull << 31);
	CHECK(sim.fired == 0);
	/* ... but only when the 32-bit counter comes round to it again
	 * (it stands at 1900 + 2^31): one wrap at 14.31818 MHz is
	 * 299.97 s. */
	advance(&sim, (1ull << 31) - 409);
	CHECK(sim.fired == 0);
	advance(&sim, 1);
	CHECK(sim.fired == 1);
	CHECK((1ull << 32) * 1000 / HPET_14M_HZ == 299966);	/* ms per wrap */
}

static void test_write_lands_late(void)
{
	u64 cmp;

	/* The write lands 150 ticks after it leaves: a comparator 140 ahead
	 * at the first read is behind when it lands: -ETIME, never fires. */
	reset(32, 0, 2, 150);
	CHECK(hpet_cmp_program(&dev, 140, &cmp) == -ETIME);
	advance(&sim, 1000000);
	CHECK(sim.fired == 0);
	/* 250 ahead: it landed in time and fires, but at the re-read it is
	 * only 98 ahead, below the margin: refused all the same (a spurious
	 * refusal costs a retry; trusting it could cost the event). */
	reset(32, 0, 2, 150);
	CHECK(hpet_cmp_program(&dev, 250, &cmp) == -ETIME);
	advance(&sim, 1000);
	CHECK(sim.fired == 1);
	/* The counter reaching the comparator exactly at the re-read: it
	 * fired (equality) and the programming says -ETIME; the caller's
	 * retry then makes a second event, which Linux accepts too. */
	reset(32, 0, 10, 0);
	CHECK(hpet_cmp_program(&dev, 10, &cmp) == -ETIME && sim.fired == 1);
	/* Far enough ahead: accepted and fires once. */
	reset(32, 0, 2, 150);
	CHECK(hpet_cmp_program(&dev, 400, &cmp) == 0);
	advance(&sim, 1000);
	CHECK(sim.fired == 1);
}

static void test_wrap(void)
{
	u64 cmp;

	/* Programmed across the 32-bit wrap: the comparator is the wrapped
	 * value, accepted, and fires after the wrap. */
	reset(32, 0xFFFFFF00ull, 2, 0);
	CHECK(hpet_cmp_program(&dev, 0x200, &cmp) == 0 && cmp == 0x102);
	advance(&sim, 0x1FD);		/* the counter at 0x101 */
	CHECK(sim.fired == 0);
	advance(&sim, 2);
	CHECK(sim.fired == 1);
	/* The largest delta the clockevent allows (0x7FFFFFFF, 150 s at
	 * 14.31818 MHz) is still ahead, not taken for behind. */
	reset(32, 0xFFFFFFF0ull, 2, 0);
	CHECK(hpet_cmp_program(&dev, 0x7FFFFFFF - 8, &cmp) == 0);
	/* One more tick than half the range reads as behind. */
	reset(32, 5, 0, 0);
	CHECK(hpet_cmp_program(&dev, 0x80000000ull, &cmp) == -ETIME);
	/* 64-bit: no wrap in practice, the same rules at the top. */
	reset(64, UINT64_MAX - 100, 2, 0);
	CHECK(hpet_cmp_program(&dev, 1000, &cmp) == 0 && cmp == 901);
	advance(&sim, 1000);
	CHECK(sim.fired == 1);
}

/* The caller's side: clockevent_program doubles a refused delta. */
static void test_program_grows(void)
{
	struct clockevent ce = { .name = "hpet", .freq_hz = HPET_14M_HZ, .min_delta = 192,
				 .max_delta = 0x7FFFFFFF, .set_next_event = sim_next };

	/* 300 ticks per read and per write's landing: a delta must exceed
	 * 600 + 128. 192 lands behind and is lost; 384 lands ahead but is
	 * passed during the re-read (it fires, and is refused: the retry
	 * makes a second event); 768 is taken, and comes. */
	reset(32, 0, 300, 300);
	CHECK(clockevent_program(&ce, 1) == 0);
	CHECK(ce.etime == 2 && sim.writes == 3 && sim.fired == 1);
	advance(&sim, 1000);
	CHECK(sim.fired == 2);
	/* Refused at every size (a part whose reads take half a wrap): the
	 * tries are bounded and the failure reported. */
	ce.etime = 0;
	reset(32, 0, 0x80000000ull, 0);
	CHECK(clockevent_program(&ce, 192) == -ETIME && ce.etime == CE_ETIME_TRIES);
	/* Growth stops at max_delta. */
	ce = (struct clockevent){ .min_delta = 1, .max_delta = 100, .set_next_event = sim_next };
	reset(32, 0, 300, 0);
	CHECK(clockevent_program(&ce, 60) == -ETIME && ce.etime == CE_ETIME_TRIES);
}

int main(void)
{
	test_passed_extremes();
	test_equality();
	test_write_lands_late();
	test_wrap();
	test_program_grows();
	return check_report("test_hpet_cmp");
}

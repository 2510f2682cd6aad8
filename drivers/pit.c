/* The 8254 PIT: channel 2 as the "pit" clocksource and the early TSC
 * estimate, channel 0 on IRQ0 as the "pit" clockevent. It must not keep
 * IRQ0 routed while the clockevent is shut down: others take IRQ0. */
#include "pit.h"
#include "arch-x86/cpu.h"
#include "arch-x86/delay.h"
#include "lib/printf.h"
#include "tick/clocksource.h"
#include "tick/clockevent.h"
#include "arch-x86/idt.h"
#include "arch-x86/ioapic.h"
#include "arch-x86/lapic.h"
#include "lib/math.h"

void pit_ch2_start(u16 count)
{
	outb(PORT_61, (u8)((inb(PORT_61) & ~P61_SPEAKER) & ~P61_GATE2));
	outb(PIT_CMD, PIT_SEL_CH2 | PIT_LOHI | PIT_MODE0);
	outb(PIT_CH2, count & 0xFF);
	outb(PIT_CH2, count >> 8);
	/* Counting starts on the gate's rising edge. */
	outb(PORT_61, (u8)((inb(PORT_61) & ~P61_SPEAKER) | P61_GATE2));
}

bool pit_ch2_done(void)
{
	return inb(PORT_61) & P61_OUT2;
}

void pit_ch0_periodic(u16 divisor)
{
	outb(PIT_CMD, PIT_SEL_CH0 | PIT_LOHI | PIT_MODE2);
	outb(PIT_CH0, divisor & 0xFF);
	outb(PIT_CH0, divisor >> 8);
}

void pit_ch0_stop(void)
{
	outb(PIT_CMD, PIT_SEL_CH0 | PIT_LOHI | PIT_MODE0);
	outb(PIT_CH0, 1);
	outb(PIT_CH0, 0);
}

u16 pit_ch0_read(void)
{
	u16 lo, hi;

	outb(PIT_CMD, PIT_SEL_CH0 | PIT_LATCH);
	lo = inb(PIT_CH0);
	hi = inb(PIT_CH0);
	return (u16)(hi << 8 | lo);
}

static char reason[96];

static u16 ch2_latched(void)
{
	u16 lo, hi;

	outb(PIT_CMD, PIT_SEL_CH2 | PIT_LATCH);
	lo = inb(PIT_CH2);
	hi = inb(PIT_CH2);
	return (u16)(hi << 8 | lo);
}

/* The counter counts down; the clocksource counts up. */
static u64 read_ch2(struct clocksource *cs)
{
	(void)cs;
	return (u16)(0u - ch2_latched());
}

static struct clocksource pit_cs = {
	.name = "pit",
	.rating = 110,
	.read = read_ch2,
	.mask = 0xFFFF,
	.freq_hz = PIT_HZ,
	.flags = CS_EXITS,
	.read_method = "latch + 2 inb (channel 2)",
};

/* Whether a channel counts: a read that differs from the first (in
 * *first) within 10000 reads. With no PIT the ports float (0xffff). */
static bool counts(u16 (*read)(void), u16 *first)
{
	u16 b = 0;
	int i;

	*first = read();
	for (i = 0; i < 10000 && (b = read()) == *first; i++)
		;
	return b != *first;
}

int pit_clocksource_init(const char **why)
{
	u16 a;

	*why = reason;
	outb(PORT_61, (u8)((inb(PORT_61) & ~P61_SPEAKER) | P61_GATE2));
	outb(PIT_CMD, PIT_SEL_CH2 | PIT_LOHI | PIT_MODE2);
	outb(PIT_CH2, 0);
	outb(PIT_CH2, 0);
	if (!counts(ch2_latched, &a)) {
		snprintf_(reason, sizeof(reason), "PIT channel 2 does not count (reads 0x%x)", a);
		return -ENODEV;
	}
	return clocksource_register(&pit_cs);
}

/* ---- channel 0 as a clockevent on IRQ0 ---- */

static struct clockevent pit_ce;
static int ce_vector = -1;
static bool routed;
static char ce_reason[96];

static void pit_irq(struct int_frame *f, void *ctx)
{
	u64 tsc = rdtsc();

	(void)f;
	(void)ctx;
	clockevent_irq(&pit_ce, tsc);
}

/* IRQ0 is routed while the device is in use and masked at shutdown, so
 * that other users of IRQ0 (the interrupt-routing test) can take it. */
static int route(void)
{
	int gsi;

	if (routed)
		return 0;
	gsi = ioapic_route_isa(0, (u8)ce_vector, lapic_id());
	if (gsi < 0)
		return gsi;
	routed = true;
	snprintf_(pit_ce.route, sizeof(pit_ce.route), "IOAPIC GSI %d, vector 0x%x", gsi, ce_vector);
	return 0;
}

static int pit_periodic(struct clockevent *ce, u64 hz)
{
	u64 div;

	if (hz == 0)
		return -EINVAL;
	div = (PIT_HZ + hz / 2) / hz;
	if (div < ce->min_delta || div > 0xFFFF || route())
		return -EINVAL;
	ce->period_mhz = (u64)PIT_HZ * 1000 / div;
	ce->period_ticks = div;
	pit_ch0_periodic((u16)div);
	return 0;
}

static u16 programmed;	/* the last oneshot count */
static volatile bool writing;	/* pit_next is between its control word and the count */
static int irq_count = -1;	/* what pit_passed read last (-1: nothing) */
static int irq_out = -1;	/* ... and OUT then, when it read it */

/* Channel 0's OUT pin by the read-back command (status only). */
static int ch0_out(void)
{
	outb(PIT_CMD, PIT_SEL_READBACK | PIT_RB_NO_COUNT | PIT_RB_CH0);
	return (inb(PIT_CH0) & PIT_STATUS_OUT) != 0;
}

/* Mode 0 counts down from the count written, through 0 (the event) and on
 * from 0xFFFF: what it has counted is (count - now) mod 2^16, valid for
 * 55 ms after the write. When the count is short of the event, OUT is read
 * too (two more port accesses, only then): low, this programming raised no
 * edge yet. */
static bool pit_passed(struct clockevent *ce)
{
	bool passed;

	(void)ce;
	if (writing) {
		/* Taken while the count was being written: its event cannot
		 * have been raised (the channel still shows the previous
		 * programming, whose OUT may be high), and a read now would
		 * come between the count's two bytes. */
		irq_count = -1;
		irq_out = 0;
		return false;
	}
	irq_count = pit_ch0_read();
	passed = (u16)(programmed - irq_count) >= programmed;
	irq_out = passed ? -1 : ch0_out();
	return passed;
}

void pit_irq_read(int *count, int *out)
{
	*count = irq_count;
	*out = irq_out;
}

/*
 * Oneshot events use mode 0, interrupt on terminal count: the control
 * word drops OUT, the count loads on the clock after its second byte, and
 * OUT rises when it reaches 0 (N + 1 clocks after the write) and stays
 * high until the next programming: one rising edge per event.
 *
 * Not mode 4 (software-triggered strobe, as Linux's i8253 uses): QEMU's
 * 8254 (hw/timer/i8254.c, 7.2) raises IRQ0 twice for each mode 4 event.
 * Its transition that should end OUT's one-clock pulse is timed at the
 * count + 1 instant truncated to a nanosecond, where the elapsed count
 * truncates back to the terminal count, so it sets OUT high again; the
 * IOAPIC's edge-triggered input keeps no level and delivers every
 * raise. Traced (-trace ioapic_set_irq): two level-1 raises per mode 4
 * event, one per mode 0 event. The second comes one PIT clock later: the
 * LAPIC merges it with the first when QEMU runs both timer callbacks in
 * one pass, and delivers it apart when the vCPU took the first in between
 * (always under -icount: 256 of 256 events; rarely, as the host schedules
 * threads, without). Taken just after the next event's count was written,
 * it read the fresh count and looked like that event come early (q35
 * -smp 3 beside a load boot: once in 20 runs).
 */
static int pit_next(struct clockevent *ce, u64 delta)
{
	u64 a, b, flags;

	if (route())
		return -EINVAL;
	/* Interrupts off while the count is written: the event of a short
	 * count (12.6 us) came before `writing` was cleared when the host
	 * returned late from the second byte's exit (kvm_pvm at load 1), and
	 * was taken for no edge of this programming, its event then lost
	 * (pit.oneshot, 3 soak runs in 20). Taken after the writes, it reads
	 * the count it belongs to. */
	flags = irq_save();
	programmed = (u16)delta;
	writing = true;
	outb(PIT_CMD, PIT_SEL_CH0 | PIT_LOHI | PIT_MODE0);
	outb(PIT_CH0, delta & 0xFF);
	a = rdtsc_ordered();
	outb(PIT_CH0, (delta >> 8) & 0xFF);
	writing = false;
	b = rdtsc_ordered();
	irq_restore(flags);
	ce->due_tsc = a + (b - a) / 2 + mul_div_u64(delta + 1, tsc_hz(), PIT_HZ);
	ce->due_unc = (b - a) / 2 + tsc_hz() / PIT_HZ;
	return 0;
}

/* IRQ0 is masked before channel 0 is stopped: the stop (mode 0, count 1)
 * raises OUT one clock later, an edge that the masked input ignores
 * (82093AA; QEMU's ioapic_set_irq alike) instead of delivering it as an
 * interrupt no event was programmed for. */
static void pit_shutdown(struct clockevent *ce)
{
	(void)ce;
	if (routed)
		ioapic_mask_isa(0);
	routed = false;
	pit_ch0_stop();
}

static struct clockevent pit_ce = {
	.name = "pit",
	.rating = 80,
	.features = CE_PERIODIC | CE_ONESHOT,
	.freq_hz = PIT_HZ,
	.min_delta = 0xF,		/* Linux's i8253 limits */
	.max_delta = 0x7FFF,
	.set_periodic = pit_periodic,
	.set_next_event = pit_next,
	.shutdown = pit_shutdown,
	.passed = pit_passed,
};

/* Whether channel 0 counts: with no PIT (QEMU's pit=off) its ports float
 * and every read gives 0xffff. Channel 0 is stopped (mode 0, count 1),
 * which still counts down past zero, so two latched reads differ. */
static bool ch0_counts(u16 *first)
{
	pit_ch0_stop();
	return counts(pit_ch0_read, first);
}

/*
 * Where IRQ0 arrives. The MADT says: an override, else GSI 0. QEMU's
 * IOAPIC model wires ISA IRQ0 to pin 2 whatever the machine
 * (hw/intc/ioapic.c, ioapic_set_irq: "IRQ0 maps to GSI 2"), and the pc
 * and q35 MADTs say so with an override; microvm's has none (it never
 * sets apic_xrupt_override), so IRQ0 routed to GSI 0 never comes there.
 * When the MADT names GSI 0, GSI 0 and GSI 2 are both routed while the
 * PIT runs at 1 kHz (Linux's check_timer tries other pins too): the first
 * interrupt says where IRQ0 is, within a millisecond where it arrives at
 * all; the bound only matters when it arrives nowhere.
 */
#define IRQ0_PROBE_MS	500

static volatile u32 probe_hits[2];	/* on GSI 0, on GSI 2 */
static char irq0_note[200];

static void probe_irq(struct int_frame *f, void *ctx)
{
	(void)f;
	probe_hits[(uintptr_t)ctx]++;
}

static void find_irq0(void)
{
	int vec0, vec2;
	u64 flags, end;

	if (ioapic_isa_gsi(0) != 0)
		return;
	vec0 = irq_alloc(probe_irq, (void *)0);
	vec2 = irq_alloc(probe_irq, (void *)1);
	if (vec0 >= 0 && vec2 >= 0) {
		flags = irq_save();
		probe_hits[0] = probe_hits[1] = 0;
		if (ioapic_route_gsi(0, (u8)vec0, lapic_id(), 0) >= 0 &&
		    ioapic_route_gsi(2, (u8)vec2, lapic_id(), 0) >= 0) {
			pit_ch0_periodic(PIT_HZ / 1000);
			irq_enable();
			end = rdtsc_ordered() + ns_to_tsc(IRQ0_PROBE_MS * 1000000ull);
			while (!probe_hits[0] && !probe_hits[1] && rdtsc_ordered() < end)
				cpu_relax();
			irq_disable();
			pit_ch0_stop();
		}
		ioapic_mask_gsi(0);
		ioapic_mask_gsi(2);
		irq_restore(flags);
		if (!probe_hits[0] && probe_hits[1]) {
			ioapic_isa_fixup(0, 2);
			snprintf_(irq0_note, sizeof(irq0_note), "IRQ0 arrives on GSI 2, not on GSI 0 as "
				  "the MADT says (no override for it): the platform's tables "
				  "misdescribe its wiring (QEMU microvm); routed to GSI 2");
		}
	}
	if (vec0 >= 0)
		irq_clear_handler((u8)vec0);
	if (vec2 >= 0)
		irq_clear_handler((u8)vec2);
}

const char *pit_irq0_note(void)
{
	return irq0_note[0] ? irq0_note : NULL;
}

int pit_clockevent_init(int nioapics, const char **why)
{
	u16 seen;

	*why = ce_reason;
	if (!ch0_counts(&seen)) {
		snprintf_(ce_reason, sizeof(ce_reason), "no PIT: channel 0 does not count (reads 0x%x)",
			  seen);
		return -ENODEV;
	}
	if (!nioapics) {
		snprintf_(ce_reason, sizeof(ce_reason), "no IOAPIC to route IRQ0 through (no ACPI MADT)");
		return -ENODEV;
	}
	ce_vector = irq_alloc(pit_irq, NULL);
	if (ce_vector < 0) {
		snprintf_(ce_reason, sizeof(ce_reason), "no free interrupt vector");
		return -EIO;
	}
	pit_ch0_stop();
	find_irq0();
	return clockevent_register(&pit_ce);
}

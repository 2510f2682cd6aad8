#include "pit.h"
#include "arch-x86/cpu.h"
#include "lib/printf.h"
#include "tick/clocksource.h"

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

int pit_clocksource_init(const char **why)
{
	u16 a, b = 0;
	int i;

	*why = reason;
	outb(PORT_61, (u8)((inb(PORT_61) & ~P61_SPEAKER) | P61_GATE2));
	outb(PIT_CMD, PIT_SEL_CH2 | PIT_LOHI | PIT_MODE2);
	outb(PIT_CH2, 0);
	outb(PIT_CH2, 0);
	a = ch2_latched();
	for (i = 0; i < 10000 && (b = ch2_latched()) == a; i++)
		;
	if (a == b) {
		snprintf_(reason, sizeof(reason), "PIT channel 2 does not count (reads 0x%x)", a);
		return -ENODEV;
	}
	return clocksource_register(&pit_cs);
}

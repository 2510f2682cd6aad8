#include "pit.h"
#include "arch-x86/cpu.h"

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

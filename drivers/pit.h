/* 8254 programmable interval timer: 1,193,182 Hz. */
#ifndef DRIVERS_PIT_H
#define DRIVERS_PIT_H

#include "lib/types.h"

#define PIT_HZ		1193182u
#define PIT_CH0		0x40
#define PIT_CH2		0x42
#define PIT_CMD		0x43
#define   PIT_SEL_CH0	(0u << 6)
#define   PIT_SEL_CH2	(2u << 6)
#define   PIT_SEL_READBACK (3u << 6)
#define   PIT_LATCH	(0u << 4)	/* counter latch command */
#define   PIT_LOHI	(3u << 4)	/* access low then high byte */
#define   PIT_MODE0	(0u << 1)	/* interrupt on terminal count */
#define   PIT_MODE2	(2u << 1)	/* rate generator */
#define   PIT_MODE4	(4u << 1)	/* software-triggered strobe */
#define   PIT_RB_NO_COUNT (1u << 5)	/* read-back: do not latch the count */
#define   PIT_RB_CH0	(1u << 1)	/* read-back: channel 0 */
#define PIT_STATUS_OUT	0x80		/* read-back status: the OUT pin */
#define PORT_61		0x61		/* NMI status and control */
#define   P61_GATE2	0x01		/* channel 2 gate */
#define   P61_SPEAKER	0x02		/* speaker data enable */
#define   P61_OUT2	0x20		/* channel 2 output (read) */

/* Starts channel 2 in mode 0 with count (gate on, speaker off): OUT2
 * goes high when count ticks have elapsed. */
void pit_ch2_start(u16 count);
/* True once channel 2's OUT has gone high. */
bool pit_ch2_done(void);
/* Programs channel 0 as a rate generator (mode 2) with the given divisor:
 * IRQ0 every divisor / PIT_HZ seconds. */
void pit_ch0_periodic(u16 divisor);
/* Stops channel 0 from raising IRQ0 (mode 0 with a count of 1, never
 * reloaded: OUT stays high, no further edges). */
void pit_ch0_stop(void);
/* Latched read of channel 0's current count. */
u16 pit_ch0_read(void);

/*
 * Registers the "pit" clocksource: channel 2 as a free-running 16-bit
 * down-counter (mode 2, reload 65536, gate on, speaker off) read through
 * the latch command. It wraps every 54.9 ms, so readers must look at it
 * more often than every 27 ms. Returns 0, or -ENODEV when channel 2 does
 * not count (no PIT; *why says what was seen).
 */
int pit_clocksource_init(const char **why);

/*
 * Registers the "pit" clockevent: channel 0 on IRQ0 through the IOAPIC,
 * periodic (mode 2) and oneshot (mode 0: one edge per event, see
 * pit_next). Returns 0, or -ENODEV when channel 0 does not count (no PIT)
 * or there is no IOAPIC (*why says which).
 */
int pit_clockevent_init(int nioapics, const char **why);
/* What the clockevent's passed() read in the last interrupt that asked
 * (clockevent.check_passed): channel 0's count then (-1: not read), and,
 * when that count was short of the event, its OUT pin by the read-back
 * status (1 high, 0 low: mode 0 drops OUT at programming and
 * raises it only at the terminal count, so low means this programming had
 * raised no edge; also 0 when the interrupt came while the count was still
 * being written); -1 when OUT was not read. */
void pit_irq_read(int *count, int *out);
/* When the clockevent's probe found IRQ0 elsewhere than the MADT says
 * (and routes it there), what it found; else NULL. */
const char *pit_irq0_note(void);

#endif

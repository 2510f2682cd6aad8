/*
 * 16550-compatible UARTs, polled, each registered as a console sink: the
 * PC's COM ports (I/O space) or a UART in memory space (an SPCR on a
 * server names one). A port is probed before use, so an absent one costs
 * a few register reads and nothing more.
 */
#ifndef DRIVERS_SERIAL_H
#define DRIVERS_SERIAL_H

#include "lib/types.h"

#define SERIAL_MAX	4		/* UARTs in use at once */
#define SERIAL_MMIO_LIMIT (4ull << 30)	/* what the boot page tables map */
#define UART_CLOCK	1843200		/* the PC's 1.8432 MHz: divisor = 115200 / baud */
#define UART_RBR	0	/* receive buffer (read, DLAB=0) */
#define UART_THR	0	/* transmit holding (write, DLAB=0) */
#define UART_DLL	0	/* divisor latch low (DLAB=1) */
#define UART_IER	1
#define UART_DLM	1	/* divisor latch high (DLAB=1) */
#define UART_FCR	2
#define UART_IIR	2	/* interrupt identification (read) */
#define  IIR_FIFO	0xC0	/* both set: a 16550A's FIFOs are on */
#define UART_FIFO_SIZE	16	/* a 16550A's transmit FIFO */
#define UART_LCR	3
#define   LCR_8N1	0x03
#define   LCR_DLAB	0x80
#define UART_MCR	4
#define   MCR_DTR_RTS_OUT2 0x0B
#define   MCR_LOOP	0x10
#define UART_LSR	5
#define   LSR_DR	0x01	/* data ready */
#define   LSR_THRE	0x20	/* transmit holding register empty */
#define UART_SCR	7

struct serial_port {
	char name[12];		/* "ttyS0".."ttyS3", or "mmio" */
	bool mmio;		/* base is a physical address, else an I/O port */
	u64 base;
	u8 stride;		/* bytes between registers (1, or 4 for 32-bit MMIO) */
	u32 baud;		/* 0: keep the divisor the firmware set */
};

/*
 * Probes the UART (scratch register, then a byte through loopback),
 * programs it 8N1 at p->baud and registers it as a console sink named
 * p->name. Returns 0, -ENODEV when no working UART answers (nothing is
 * registered; the probe took a handful of register reads), -ERANGE when
 * SERIAL_MAX ports are in use, -EINVAL for a baud rate the 1.8432 MHz
 * clock cannot make, -EIO for an MMIO UART above SERIAL_MMIO_LIMIT.
 */
int serial_add(const struct serial_port *p);
/* As serial_add, but registered as a standby console sink (lib/console.h):
 * written only once the console chosen instead (virtio) is given up on. */
int serial_add_standby(const struct serial_port *p);
/* How many UARTs are registered. */
int serial_count(void);
/*
 * From now on the UARTs' output keeps a wire's rate, 10 bits a byte at
 * baud, even where an emulated UART takes the bytes at once: a reader that falls behind a
 * burst loses lines (LAVA's monitors search only the last 4000 bytes
 * received). Each run waits, by the TSC at tsc_hz(), until the wire would
 * have sent the run before it: at most a FIFO's bytes' time. 0 turns it
 * off.
 */
void serial_pace(u32 baud);

/* Stale input bytes drained at a probe before the UART is given up on. */
#define SERIAL_DRAIN_MAX	10000

/* What the bounded waits came to over every UART probed, for the report. */
struct serial_stats {
	u32 drained;		/* stale input bytes drained at probes */
	bool undrained;		/* a receiver never emptied: that port not used */
	u32 stalls;		/* bytes whose transmitter wait ran out */
};
const struct serial_stats *serial_stats(void);

#endif

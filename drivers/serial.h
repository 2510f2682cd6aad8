/* 16550 UART on COM1 (0x3F8), 115200 8N1, polled. */
#ifndef DRIVERS_SERIAL_H
#define DRIVERS_SERIAL_H

#include "lib/types.h"

#define COM1_PORT	0x3F8
#define UART_RBR	0	/* receive buffer (read, DLAB=0) */
#define UART_THR	0	/* transmit holding (write, DLAB=0) */
#define UART_DLL	0	/* divisor latch low (DLAB=1) */
#define UART_IER	1
#define UART_DLM	1	/* divisor latch high (DLAB=1) */
#define UART_FCR	2
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

/* Probes COM1 (scratch register and a loopback byte), programs it and
 * registers it as the console sink "serial". Returns 0, or -ENODEV when
 * no working UART answers (nothing is registered then). */
int serial_init(void);
/* Writes n bytes, "\n" as "\r\n". Each byte waits a bounded time for
 * the transmitter; a UART that stops draining is given up on. */
void serial_write(const char *s, size_t n);
/* True once serial_init found a UART. */
bool serial_present(void);

/* Stale input bytes drained at probe before the UART is given up on. */
#define SERIAL_DRAIN_MAX	10000

/* What the bounded waits came to, for the report. */
struct serial_stats {
	u32 drained;		/* stale input bytes drained at probe */
	bool undrained;		/* the receiver never emptied: not used */
	u32 stalls;		/* bytes whose transmitter wait ran out */
};
const struct serial_stats *serial_stats(void);

#endif

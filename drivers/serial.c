/* 16550 UARTs, polled, registered as console sinks. It must not wait for
 * the transmitter without a bound: a wedged UART is given up on. */
#include "serial.h"
#include "arch-x86/cpu.h"
#include "arch-x86/delay.h"
#include "lib/console.h"
#include "lib/str.h"

/* Bounds on polling loops: each iteration is a register read (≈20 µs when
 * it exits to the hypervisor), so 100000 is seconds at worst per byte on a
 * wedged UART, and we stop using the UART after a few such bytes. */
#define TX_SPINS	100000
#define LOOP_SPINS	10000
#define MAX_STALLS	3

struct uart {
	struct console_sink sink;	/* first: the sink leads back to its UART */
	struct serial_port port;
	bool present;
	int stalls;
	int fifo;	/* bytes the transmitter takes once empty: 16, or 1 */
	int room;	/* bytes it can still take without polling */
};

static struct uart uarts[SERIAL_MAX];
static int nuarts;
static struct serial_stats stats;
static u32 pace_baud;		/* serial_pace's: 0, not paced */
static u64 wire_free;		/* TSC: when the wire will have sent what it holds */

static u8 uart_in(const struct serial_port *p, int reg)
{
	u64 a = p->base + (u64)reg * p->stride;

	io_count(IO_CONSOLE);
	if (!p->mmio)
		return inb((u16)a);
	if (p->stride == 4)
		return (u8)mmio_read32(a);
	io_count(IO_MMIO);
	return *(volatile u8 *)(uintptr_t)a;
}

static void uart_out(const struct serial_port *p, int reg, u8 v)
{
	u64 a = p->base + (u64)reg * p->stride;

	io_count(IO_CONSOLE);
	if (!p->mmio)
		outb((u16)a, v);
	else if (p->stride == 4)
		mmio_write32(a, v);
	else {
		io_count(IO_MMIO);
		*(volatile u8 *)(uintptr_t)a = v;
	}
}

/* A byte sent in loopback mode must come back. Stale input is drained
 * first, a bounded number of bytes: a port whose receiver never empties
 * (a floating bus reading 0xFF, a flood) is no UART we can use. */
static bool loopback_ok(const struct serial_port *p)
{
	int i;

	uart_out(p, UART_MCR, MCR_LOOP | 0x0F);
	for (i = 0; i < SERIAL_DRAIN_MAX && (uart_in(p, UART_LSR) & LSR_DR); i++)
		(void)uart_in(p, UART_RBR);
	stats.drained += (u32)i;
	if (i == SERIAL_DRAIN_MAX) {
		uart_out(p, UART_MCR, MCR_DTR_RTS_OUT2);
		stats.undrained = true;
		return false;
	}
	uart_out(p, UART_THR, 0xAE);
	for (i = 0; i < LOOP_SPINS; i++)
		if (uart_in(p, UART_LSR) & LSR_DR)
			break;
	bool ok = i < LOOP_SPINS && uart_in(p, UART_RBR) == 0xAE;

	uart_out(p, UART_MCR, MCR_DTR_RTS_OUT2);
	return ok;
}

/*
 * With the FIFOs on, THRE means the whole transmit FIFO is empty (16550A
 * data sheet, LSR bit 5): once it is seen, a FIFO's worth of bytes goes
 * out without asking again, as Linux's 8250 driver does. Each LSR read is
 * an exit under a hypervisor, so this halves the console's cost there.
 * Never more than the FIFO holds: QEMU drops a byte written to a full one.
 * Returns how many bytes may be written now (0: the UART was given up).
 */
static int tx_room(struct uart *u)
{
	int i;

	if (u->room)
		return u->room;
	for (i = 0; i < TX_SPINS; i++)
		if (uart_in(&u->port, UART_LSR) & LSR_THRE)
			break;
	if (i == TX_SPINS) {
		stats.stalls++;
		if (++u->stalls >= MAX_STALLS) {
			u->present = false;
			return 0;
		}
		/* Not seen empty: one byte, then ask again. */
		u->room = 1;
	} else {
		u->room = u->fifo;
	}
	return u->room;
}

void serial_pace(u32 baud)
{
	pace_baud = baud;
	wire_free = 0;
}

/* Waits until the wire has sent what it held, then takes k bytes' time
 * on it (serial_pace). The wait is at most one run's time: wire_free is
 * never set further ahead than that. */
static void pace(int k)
{
	u64 hz, now;

	if (!pace_baud)
		return;
	hz = tsc_hz();
	if (!hz)
		return;
	now = rdtsc();
	for (int i = 0; now < wire_free && i < TX_SPINS; i++) {
		cpu_relax();
		now = rdtsc();
	}
	wire_free = MAX(now, wire_free) + hz / pace_baud * 10 * (u64)k;
}

/* k bytes of s to the transmitter: a port UART's by one REP OUTSB. */
static void uart_send(struct uart *u, const char *s, int k)
{
	pace(k);
	u->room -= k;
	if (!u->port.mmio) {
		for (int j = 0; j < k; j++)
			io_count(IO_CONSOLE);
		outsb((u16)u->port.base, (const u8 *)s, (size_t)k);	/* THR: register 0 */
	} else {
		for (int j = 0; j < k; j++)
			uart_out(&u->port, UART_THR, (u8)s[j]);
	}
}

/*
 * The bytes of s (each '\n' as "\r\n"), as many at a time as the FIFO
 * takes. A port UART gets each run by one REP OUTSB straight from s, the
 * same writes to THR that single OUTBs make: KVM can pass the string to
 * QEMU in one exit, and even kvm_pvm, which exits per byte, takes a fifth
 * less time. The runs end at newlines, found by memchr (a string
 * instruction): where the guest is interpreted, a loop that looked at
 * each byte cost as much again as sending it.
 */
static void uart_write(const struct console_sink *sink, const char *s, size_t n)
{
	struct uart *u = (struct uart *)sink;
	size_t i = 0;
	bool cr_sent = false;	/* s[i] is '\n' and its '\r' went out */

	while (i < n && u->present) {
		int room = tx_room(u), k;
		const char *nl;

		if (room == 0)
			break;
		if (s[i] == '\n' && !cr_sent) {
			k = MIN(room, 2);
			uart_send(u, "\r\n", k);
			i += (size_t)k - 1;
			cr_sent = k == 1;
			continue;
		}
		/* From s[i] (a '\n' whose '\r' went out, or text) up to the
		 * next newline after it, at most room bytes. */
		k = (int)MIN(n - i, (size_t)room);
		nl = k > 1 ? memchr(s + i + 1, '\n', (size_t)k - 1) : NULL;
		if (nl)
			k = (int)(nl - (s + i));
		uart_send(u, s + i, k);
		i += (size_t)k;
		cr_sent = false;
	}
}

/* Text whose newlines are already "\r\n" (console.h): FIFO batches
 * straight out, nothing to look for. */
static void uart_write_crlf(const struct console_sink *sink, const char *s, size_t n)
{
	struct uart *u = (struct uart *)sink;
	size_t i = 0;

	while (i < n && u->present) {
		int room = tx_room(u), k = (int)MIN(n - i, (size_t)room);

		if (room == 0)
			break;
		uart_send(u, s + i, k);
		i += (size_t)k;
	}
}

static bool uart_live(const struct console_sink *sink)
{
	return ((const struct uart *)sink)->present;
}

static int add(const struct serial_port *p, bool standby)
{
	struct uart *u;

	if (nuarts == SERIAL_MAX)
		return -ERANGE;
	/* boot.S maps the low 4 GiB only; a UART above is out of reach. */
	if (p->mmio && p->base + 8u * p->stride > SERIAL_MMIO_LIMIT)
		return -EIO;
	if (p->baud && (p->baud > UART_CLOCK / 16 || (UART_CLOCK / 16) % p->baud))
		return -EINVAL;
	/* No device: the bus floats high and the scratch write is lost. */
	uart_out(p, UART_SCR, 0x5A);
	if (uart_in(p, UART_SCR) != 0x5A)
		return -ENODEV;
	uart_out(p, UART_IER, 0);			/* polled: no interrupts */
	if (p->baud) {
		u16 div = (u16)(UART_CLOCK / 16 / p->baud);

		uart_out(p, UART_LCR, LCR_DLAB);
		uart_out(p, UART_DLL, (u8)div);
		uart_out(p, UART_DLM, (u8)(div >> 8));
	}
	uart_out(p, UART_LCR, LCR_8N1);
	uart_out(p, UART_FCR, 0xC7);			/* enable + clear FIFOs */
	if (!loopback_ok(p))
		return -ENODEV;
	u = &uarts[nuarts];
	*u = (struct uart){ .port = *p, .present = true, .fifo = 1 };
	if ((uart_in(p, UART_IIR) & IIR_FIFO) == IIR_FIFO)
		u->fifo = UART_FIFO_SIZE;
	/* Every UART is the kind "serial" in the report's console list;
	 * which ports they are is said apart (boot/consoles.c). */
	u->sink = (struct console_sink){ .name = "serial", .write = uart_write,
					 .write_crlf = uart_write_crlf, .live = uart_live };
	if ((standby ? console_register_standby(&u->sink) : console_register(&u->sink)) != 0)
		return -ERANGE;
	nuarts++;
	return 0;
}

int serial_add(const struct serial_port *p)
{
	return add(p, false);
}

int serial_add_standby(const struct serial_port *p)
{
	return add(p, true);
}

int serial_count(void)
{
	return nuarts;
}

const struct serial_stats *serial_stats(void)
{
	return &stats;
}

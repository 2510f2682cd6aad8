/* COM1 as a polled 16550 UART, registered as the "serial" console sink.
 * It must not wait for the transmitter without a bound: a wedged UART is
 * given up on. */
#include "serial.h"
#include "arch-x86/cpu.h"
#include "lib/console.h"

/* Bounds on polling loops: each iteration is a port read (≈20 µs when it
 * exits to the hypervisor), so 100000 is seconds at worst per byte on a
 * wedged UART, and we stop using the UART after a few such bytes. */
#define TX_SPINS	100000
#define LOOP_SPINS	10000
#define MAX_STALLS	3

static bool present;
static int stalls;
static struct serial_stats stats;

static u8 uart_in(int reg) { return inb(COM1_PORT + reg); }
static void uart_out(int reg, u8 v) { outb(COM1_PORT + reg, v); }

static const struct console_sink sink = {
	.name = "serial",
	.write = serial_write,
	.live = serial_present,
};

int serial_init(void)
{
	int i;

	/* No device: the ISA bus floats high and the scratch write is lost. */
	uart_out(UART_SCR, 0x5A);
	if (uart_in(UART_SCR) != 0x5A)
		return -ENODEV;

	uart_out(UART_IER, 0);			/* polled: no interrupts */
	uart_out(UART_LCR, LCR_DLAB);
	uart_out(UART_DLL, 1);			/* 115200 = 1.8432 MHz / 16 / 1 */
	uart_out(UART_DLM, 0);
	uart_out(UART_LCR, LCR_8N1);
	uart_out(UART_FCR, 0xC7);		/* enable + clear FIFOs */

	/* Loopback: a byte we send must come back. Stale input is drained
	 * first, a bounded number of bytes: a port whose receiver never
	 * empties (a floating bus reading 0xFF, a flood) is no UART we can
	 * use. */
	uart_out(UART_MCR, MCR_LOOP | 0x0F);
	for (i = 0; i < SERIAL_DRAIN_MAX && (uart_in(UART_LSR) & LSR_DR); i++)
		(void)uart_in(UART_RBR);
	stats.drained = (u32)i;
	if (i == SERIAL_DRAIN_MAX) {
		uart_out(UART_MCR, MCR_DTR_RTS_OUT2);
		stats.undrained = true;
		return -ENODEV;
	}
	uart_out(UART_THR, 0xAE);
	for (i = 0; i < LOOP_SPINS; i++)
		if (uart_in(UART_LSR) & LSR_DR)
			break;
	if (i == LOOP_SPINS || uart_in(UART_RBR) != 0xAE) {
		uart_out(UART_MCR, MCR_DTR_RTS_OUT2);
		return -ENODEV;
	}
	uart_out(UART_MCR, MCR_DTR_RTS_OUT2);
	present = true;
	return console_register(&sink);
}

bool serial_present(void)
{
	return present;
}

const struct serial_stats *serial_stats(void)
{
	return &stats;
}

static void put_byte(char c)
{
	int i;

	for (i = 0; i < TX_SPINS; i++)
		if (uart_in(UART_LSR) & LSR_THRE)
			break;
	if (i == TX_SPINS) {
		stats.stalls++;
		if (++stalls >= MAX_STALLS) {
			present = false;
			return;
		}
	}
	uart_out(UART_THR, (u8)c);
}

void serial_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n && present; i++) {
		if (s[i] == '\n')
			put_byte('\r');
		put_byte(s[i]);
	}
}

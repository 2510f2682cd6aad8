/* Parses console= values. It must not touch a UART (boot/consoles.c
 * probes what this names); it is pure and unit-tested on the host. */
#include "console_spec.h"
#include "lib/printf.h"
#include "lib/str.h"

/* COM1..COM4, the I/O ports ttyS0..3 name on a PC. */
static const u16 com_ports[4] = { 0x3F8, 0x2F8, 0x3E8, 0x2E8 };

/* ",baud" with optional parity/bits letters after the digits ("115200n8"). */
static bool parse_baud(const char *s, u32 *baud)
{
	size_t n = 0;
	u64 v;

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	if (!n || !parse_u64(s, n, &v) || v == 0 || v > 4000000)
		return false;
	*baud = (u32)v;
	return true;
}

static size_t field_len(const char *s)
{
	size_t n = 0;

	while (s[n] && s[n] != ',')
		n++;
	return n;
}

static int parse_uart(const char *s, struct serial_port *p, const char **why)
{
	size_t n = field_len(s);
	u64 addr;

	if (n == 2 && !memcmp(s, "io", 2)) {
		p->mmio = false, p->stride = 1;
	} else if (n == 4 && !memcmp(s, "mmio", 4)) {
		p->mmio = true, p->stride = 1;
	} else if (n == 6 && !memcmp(s, "mmio32", 6)) {
		p->mmio = true, p->stride = 4;
	} else {
		*why = "uart, takes io, mmio or mmio32";
		return -EINVAL;
	}
	s += n;
	if (*s++ != ',' || !parse_u64(s, field_len(s), &addr) || !addr ||
	    (!p->mmio && addr > 0xFFF8)) {
		*why = "uart,... needs a valid address";
		return -EINVAL;
	}
	p->base = addr;
	s += field_len(s);
	if (*s == ',' && !parse_baud(s + 1, &p->baud)) {
		*why = "bad baud rate";
		return -EINVAL;
	}
	snprintf_(p->name, sizeof(p->name), "%s", p->mmio ? "uart-mmio" : "uart-io");
	return 1;
}

int console_spec_parse(const char *spec, struct serial_port *p, const char **why)
{
	*p = (struct serial_port){ .stride = 1, .baud = CONSOLE_DEFAULT_BAUD };
	if (!strcmp(spec, "none"))
		return 0;
	if (!strncmp(spec, "ttyS", 4) && spec[4] >= '0' && spec[4] <= '3' &&
	    (spec[5] == 0 || spec[5] == ',')) {
		p->base = com_ports[spec[4] - '0'];
		memcpy(p->name, spec, 5);
		p->name[5] = 0;
		if (spec[5] == ',' && !parse_baud(spec + 6, &p->baud)) {
			*why = "bad baud rate";
			return -EINVAL;
		}
		return 1;
	}
	if (!strncmp(spec, "uart8250,", 9))
		return parse_uart(spec + 9, p, why);
	if (!strncmp(spec, "uart,", 5))
		return parse_uart(spec + 5, p, why);
	*why = "takes ttyS0..ttyS3[,baud], uart,io|mmio|mmio32,ADDR[,baud] or none";
	return -EINVAL;
}

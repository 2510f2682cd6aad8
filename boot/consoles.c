/* Chooses and starts the consoles. It must not write to a device itself
 * (drivers/serial.c and drivers/virtio_console.c do) and it costs an
 * absent UART nothing but its probe. */
#include "consoles.h"
#include "console_spec.h"
#include "arch-x86/acpi_sys.h"
#include "drivers/virtio_console.h"
#include "lib/printf.h"
#include "lib/str.h"

#define MAX_SPECS	4

static char described[160];
static bool plain_default;

static void note(const char *fmt, ...) PRINTF_FMT(1, 2);
static void note(const char *fmt, ...)
{
	size_t len = strlen(described);
	va_list ap;

	if (len && len + 2 < sizeof(described)) {
		memcpy(described + len, "; ", 3);
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf_(described + len, sizeof(described) - len, fmt, ap);
	va_end(ap);
}

static void start(const struct serial_port *p, const char *from)
{
	int err = serial_add(p);

	if (err == -ENODEV)
		note("%s absent (%s)", p->name, from);
	else if (err)
		note("%s not used: %s (%s)", p->name,
		     err == -EINVAL ? "bad baud rate" : err == -EIO ? "above 4 GiB" : "too many", from);
	else if (p->mmio || strncmp(p->name, "ttyS", 4))
		note("%s at 0x%lx %u baud (%s)", p->name, p->base, p->baud, from);
	else
		note("%s %u baud (%s)", p->name, p->baud, from);
}

/* The SPCR's UART; false when there is no usable one. */
static bool from_spcr(struct cmdline *cmd, const struct acpi_info *acpi)
{
	struct acpi_spcr spcr;
	struct serial_port p = { .stride = 1 };
	const char *why = NULL;
	char msg[112];

	if (!acpi->present)
		return false;
	int err = acpi_spcr(acpi, &spcr, &why);

	if (err == -ENODEV)
		return false;
	if (err) {
		snprintf_(msg, sizeof(msg), "SPCR ignored: %s; using ttyS0", why);
		cmdline_warn(cmd, msg);
		return false;
	}
	p.mmio = spcr.base.space == ACPI_GAS_MEMORY;
	p.base = spcr.base.address;
	p.stride = p.mmio && spcr.base.access_size == 3 ? 4 : 1;
	p.baud = spcr.baud;
	if (!p.mmio) {
		static const u16 com[4] = { 0x3F8, 0x2F8, 0x3E8, 0x2E8 };

		str_copy(p.name, "uart-io", sizeof(p.name));
		for (int i = 0; i < 4; i++)
			if (p.base == com[i])
				snprintf_(p.name, sizeof(p.name), "ttyS%d", i);
	} else {
		str_copy(p.name, "uart-mmio", sizeof(p.name));
	}
	start(&p, "SPCR");
	return true;
}

/*
 * console=hvc0: the virtio console, Linux's name for it. It runs before
 * the report's first line, so all of it goes there. With it alone, ttyS0
 * stands by (probed, not written) for a virtio console that stops
 * returning buffers. Returns whether it runs; when it is absent, a
 * warning says so and the run goes on as without the word.
 */
static bool start_hvc0(struct cmdline *cmd)
{
	const char *why = "";
	char msg[160];
	u16 io;
	int err = virtio_console_add(&io, &why);

	if (err == 0) {
		note("hvc0 virtio-serial at I/O 0x%x (console=)", io);
		if (cmdline_get(cmd, "vcon_stall"))
			virtio_console_plant_stall((u32)cmdline_u64(cmd, "vcon_stall", 1, 1000000, 0));
		return true;
	}
	snprintf_(msg, sizeof(msg), "console=hvc0: %s; using the serial console",
		  err == -ERANGE ? "too many consoles" : why);
	cmdline_warn(cmd, msg);
	return false;
}

void consoles_init(struct cmdline *cmd, const struct acpi_info *acpi)
{
	const char *specs[MAX_SPECS];
	int n = cmdline_get_all(cmd, "console", specs, MAX_SPECS);
	struct serial_port p;
	const char *why;
	char msg[112];
	int valid = 0;
	bool hvc0 = false, hvc0_on = false, uarts = false;

	for (int i = 0; i < n; i++) {
		int r = strcmp(specs[i], "hvc0") ? console_spec_parse(specs[i], &p, &why) : 2;

		if (r == 2) {
			if (!hvc0 && start_hvc0(cmd)) {
				valid++;
				hvc0_on = true;
			}
			hvc0 = true;
		} else if (r < 0) {
			snprintf_(msg, sizeof(msg), "console=%.40s: %s", specs[i], why);
			cmdline_warn(cmd, msg);
		} else if (r == 0) {
			valid++;
			note("none (console=none)");
		} else {
			valid++;
			uarts = true;
			start(&p, "console=");
		}
	}
	if (hvc0_on && !uarts) {
		console_spec_parse("ttyS0", &p, &why);
		if (serial_add_standby(&p) == 0)
			note("ttyS0 standing by");
	}
	/* Only malformed console= words: as if none were given, so that the
	 * warning is seen somewhere. */
	if (valid > 0 || from_spcr(cmd, acpi))
		return;
	console_spec_parse("ttyS0", &p, &why);
	if (serial_add(&p) == 0) {
		plain_default = true;
		return;
	}
	note("ttyS0 absent (default)");
}

const char *consoles_describe(void)
{
	return plain_default ? NULL : described;
}

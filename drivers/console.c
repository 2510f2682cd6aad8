#include "console.h"
#include "serial.h"
#include "vga.h"

static bool vga_on;

void console_init(bool vga)
{
	serial_init();
	vga_on = vga;
	if (vga)
		vga_init();
}

void console_write(const char *s, size_t n)
{
	serial_write(s, n);
	if (vga_on)
		vga_write(s, n);
}

void vkprintf(const char *fmt, va_list ap)
{
	char buf[512];
	int n = vsnprintf_(buf, sizeof(buf), fmt, ap);

	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	console_write(buf, (size_t)n);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vkprintf(fmt, ap);
	va_end(ap);
}

const char *console_outputs(void)
{
	if (serial_present())
		return vga_on ? "serial+vga" : "serial";
	return vga_on ? "vga" : "none";
}

/* The console multiplexer: formats kprintf output and hands it to the sinks
 * drivers registered. It must not touch a device itself (no port or MMIO
 * access here), so that the layers below drivers can print. */
#include "console.h"
#include "str.h"

static const struct console_sink *sinks[CONSOLE_MAX_SINKS];
static int nsinks;
static const char *indent = "";

int console_register(const struct console_sink *sink)
{
	if (nsinks == CONSOLE_MAX_SINKS)
		return -ERANGE;
	sinks[nsinks++] = sink;
	return 0;
}

void console_write(const char *s, size_t n)
{
	for (int i = 0; i < nsinks; i++)
		sinks[i]->write(sinks[i], s, n);
}

void vkprintf(const char *fmt, va_list ap)
{
	char buf[KPRINTF_MAX];
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

void console_set_indent(const char *s)
{
	indent = s ? s : "";
}

const char *console_indent(void)
{
	return indent;
}

const char *console_outputs(void)
{
	static char names[64];
	size_t len = 0;

	for (int i = 0; i < nsinks && len < sizeof(names); i++) {
		bool listed = false;

		for (int k = 0; k < i; k++)
			listed |= !strcmp(sinks[k]->name, sinks[i]->name) &&
				  (!sinks[k]->live || sinks[k]->live(sinks[k]));
		if (!listed && (!sinks[i]->live || sinks[i]->live(sinks[i])))
			len += (size_t)snprintf_(names + len, sizeof(names) - len, "%s%s",
						 len ? "+" : "", sinks[i]->name);
	}
	return len ? names : "none";
}

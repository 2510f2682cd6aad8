/* The console multiplexer: formats kprintf output and hands it to the sinks
 * drivers registered. It must not touch a device itself (no port or MMIO
 * access here), so that the layers below drivers can print. */
#include "console.h"
#include "offload.h"
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

/* vsnprintf_'s arguments and result, for offload(). */
struct format_job {
	char *buf;
	size_t size;
	const char *fmt;
	va_list ap;
	int n;
};

static u64 format(void *arg)
{
	struct format_job *j = arg;

	j->n = vsnprintf_(j->buf, j->size, j->fmt, j->ap);
	return 0;
}

void vkprintf(const char *fmt, va_list ap)
{
	char buf[512];
	struct format_job j = { .buf = buf, .size = sizeof(buf), .fmt = fmt };
	int n;

	/* Formatting is pure: offloaded, where that is cheaper (offload.h). */
	va_copy(j.ap, ap);
	offload(format, &j);
	va_end(j.ap);
	n = j.n;

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

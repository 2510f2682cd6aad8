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

/* Text to expand '\n' into "\r\n" in, for offload(). */
struct crlf_job {
	const char *s;
	size_t n;
	char *out;
	size_t len;
};

static u64 expand_crlf(void *arg)
{
	struct crlf_job *j = arg;

	j->len = 0;
	for (size_t i = 0; i < j->n; i++) {
		if (j->s[i] == '\n')
			j->out[j->len++] = '\r';
		j->out[j->len++] = j->s[i];
	}
	return 0;
}

/* From this many bytes on, the CR LF text is made at CPL 3 (one offload
 * trip, ~95 us under kvm_pvm) for the sinks that take it, instead of each
 * sink scanning for newlines in ring 0 (~2 us a byte there, ~3 us with the
 * work per FIFO batch). */
#define CRLF_MIN	32
#define CRLF_PIECE	512

void console_write(const char *s, size_t n)
{
	bool crlf = false;

	for (int i = 0; i < nsinks; i++) {
		if (sinks[i]->write_crlf && n >= CRLF_MIN)
			crlf = true;
		else
			sinks[i]->write(sinks[i], s, n);
	}
	/* In pieces, in order: each expands to at most twice its size. */
	for (size_t at = 0; crlf && at < n; at += CRLF_PIECE) {
		char out[2 * CRLF_PIECE];
		struct crlf_job j = { .s = s + at, .n = MIN(n - at, (size_t)CRLF_PIECE), .out = out };

		offload(expand_crlf, &j);
		for (int i = 0; i < nsinks; i++)
			if (sinks[i]->write_crlf)
				sinks[i]->write_crlf(sinks[i], out, j.len);
	}
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

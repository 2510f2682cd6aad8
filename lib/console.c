/* The console multiplexer: formats kprintf output and hands it to the sinks
 * drivers registered. It must not touch a device itself (no port or MMIO
 * access here), so that the layers below drivers can print. */
#include "console.h"
#include "offload.h"
#include "str.h"

static const struct console_sink *sinks[CONSOLE_MAX_SINKS];
static int nsinks;
static const struct console_sink *standby[CONSOLE_MAX_SINKS];
static int nstandby;
static const char *indent = "";

int console_register(const struct console_sink *sink)
{
	if (nsinks == CONSOLE_MAX_SINKS)
		return -ERANGE;
	sinks[nsinks++] = sink;
	return 0;
}

int console_register_standby(const struct console_sink *sink)
{
	if (nstandby == CONSOLE_MAX_SINKS)
		return -ERANGE;
	standby[nstandby++] = sink;
	return 0;
}

static bool sink_live(const struct console_sink *sink)
{
	return !sink->live || sink->live(sink);
}

/* Whether the standby sinks carry the output: there are some and no
 * registered sink is live. */
static bool standby_active(void)
{
	if (!nstandby)
		return false;
	for (int i = 0; i < nsinks; i++)
		if (sink_live(sinks[i]))
			return false;
	return true;
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

/* Writes s to sink now, or lists it in crlf[] for the CR LF pass. */
static void put(const struct console_sink *sink, const char *s, size_t n,
		const struct console_sink **crlf, int *ncrlf)
{
	if (sink->write_crlf && n >= CRLF_MIN)
		crlf[(*ncrlf)++] = sink;
	else
		sink->write(sink, s, n);
}

void console_write(const char *s, size_t n)
{
	const struct console_sink *crlf[2 * CONSOLE_MAX_SINKS];
	int ncrlf = 0;

	for (int i = 0; i < nsinks; i++)
		put(sinks[i], s, n, crlf, &ncrlf);
	/* Asked after the sinks wrote: one that gave up during this write
	 * may not have sent it, and the standby then does. */
	if (standby_active())
		for (int i = 0; i < nstandby; i++)
			put(standby[i], s, n, crlf, &ncrlf);
	/* In pieces, in order: each expands to at most twice its size. */
	for (size_t at = 0; ncrlf && at < n; at += CRLF_PIECE) {
		char out[2 * CRLF_PIECE];
		struct crlf_job j = { .s = s + at, .n = MIN(n - at, (size_t)CRLF_PIECE), .out = out };

		offload(expand_crlf, &j);
		for (int i = 0; i < ncrlf; i++)
			crlf[i]->write_crlf(crlf[i], out, j.len);
	}
}

void console_write_standby(const char *s, size_t n)
{
	/* Plain writes: a replay is rare, the offload's CR LF pass is for
	 * the report's steady flow. */
	if (standby_active())
		for (int i = 0; i < nstandby; i++)
			standby[i]->write(standby[i], s, n);
}

void console_flush(void)
{
	for (int i = 0; i < nsinks; i++)
		if (sinks[i]->flush)
			sinks[i]->flush(sinks[i]);
}

void vkprintf(const char *fmt, va_list ap)
{
	char buf[KPRINTF_MAX];
	int n = vsnprintf_(buf, sizeof(buf), fmt, ap);

	/* A line cut at the buffer keeps its end, marked: without its
	 * newline the next line (a suite's "KTAP version 1") would run on
	 * after it, and the report's nesting would be lost (`help`'s plant
	 * option, 529 bytes, made the host tool call the report incomplete). */
	if (n >= (int)sizeof(buf)) {
		size_t len = strlen(fmt);

		n = sizeof(buf) - 1;
		if (len && fmt[len - 1] == '\n')
			memcpy(buf + n - 4, "...\n", 4);
	}
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
	const struct console_sink *all[2 * CONSOLE_MAX_SINKS];
	int n = 0;
	size_t len = 0;

	for (int i = 0; i < nsinks; i++)
		all[n++] = sinks[i];
	if (standby_active())
		for (int i = 0; i < nstandby; i++)
			all[n++] = standby[i];
	for (int i = 0; i < n && len < sizeof(names); i++) {
		bool listed = false;

		for (int k = 0; k < i; k++)
			listed |= !strcmp(all[k]->name, all[i]->name) && sink_live(all[k]);
		if (!listed && sink_live(all[i]))
			len += (size_t)snprintf_(names + len, sizeof(names) - len, "%s%s",
						 len ? "+" : "", all[i]->name);
	}
	return len ? names : "none";
}

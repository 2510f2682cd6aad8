/*
 * The kernel console: every line goes to each registered sink (a device
 * driver's write function), in the order they registered. The console
 * knows no device itself; drivers register with it, boot starts them.
 */
#ifndef LIB_CONSOLE_H
#define LIB_CONSOLE_H

#include "printf.h"

#define CONSOLE_MAX_SINKS	6

struct console_sink {
	const char *name;	/* its kind, as console_outputs names it: "serial" */
	/* Writes n bytes; self is the registered sink (a driver with several
	 * devices embeds it in its own structure). */
	void (*write)(const struct console_sink *self, const char *s, size_t n);
	/* As write, for text whose newlines are already "\r\n" (a UART's
	 * line ends), so that the sink need not look at every byte; NULL when
	 * it takes plain text only. */
	void (*write_crlf)(const struct console_sink *self, const char *s, size_t n);
	/* Whether the sink still works (a UART can be given up on); NULL
	 * when it always does. */
	bool (*live)(const struct console_sink *self);
	/* Waits (bounded) until what was written has left the machine: a
	 * device that takes buffers and sends them later (virtio) must be
	 * drained before the run's exit; NULL when write is synchronous. */
	void (*flush)(const struct console_sink *self);
};

/* Adds a sink (kept by pointer); returns -ERANGE when the table is full. */
int console_register(const struct console_sink *sink);
/*
 * Adds a standby sink (kept by pointer): written only while no sink
 * console_register added is live, so that output falls back to it when
 * the one chosen (a virtio console) is given up on. Returns -ERANGE
 * when the table is full.
 */
int console_register_standby(const struct console_sink *sink);
/* Writes n bytes to every sink (and to the standby sinks when no other
 * sink is live, also when the last one gave up during this write). */
void console_write(const char *s, size_t n);
/* Writes n bytes to the standby sinks when they carry the output: for a
 * sink that gave up, the text it took and did not send. */
void console_write_standby(const char *s, size_t n);
/* Has every sink send what it holds (each wait bounded by the sink): the
 * exit paths call it before they end the machine. */
void console_flush(void);
/* printf to the console; lines longer than 512 bytes are cut (a cut
 * line that ended in a newline ends "...\n"). */
#define KPRINTF_MAX	512
void kprintf(const char *fmt, ...) PRINTF_FMT(1, 2);
void vkprintf(const char *fmt, va_list ap);
/* The indent of the report's current nesting level (set by the report,
 * "" at the top): code below the report that prints diagnostic lines on
 * its own (the exception dump) starts them with it, so that they stay
 * inside the test that was running. */
void console_set_indent(const char *indent);
const char *console_indent(void);
/* The live sinks' distinct names joined by '+', for the report
 * ("serial", "virtio", ...; a standby's while it carries the output),
 * or "none". */
const char *console_outputs(void);

#endif

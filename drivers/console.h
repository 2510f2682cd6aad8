/* The kernel console: COM1 when present, mirrored to VGA text when present. */
#ifndef DRIVERS_CONSOLE_H
#define DRIVERS_CONSOLE_H

#include "lib/printf.h"

/* Probes the UART and, when vga is true, starts the VGA mirror. */
void console_init(bool vga);
void console_write(const char *s, size_t n);
/* printf to the console; lines longer than 512 bytes are cut. */
void kprintf(const char *fmt, ...) PRINTF_FMT(1, 2);
void vkprintf(const char *fmt, va_list ap);
/* Which outputs are live, for the report: "serial+vga", "serial", ... */
const char *console_outputs(void);

#endif

/* Our own printf: %d %i %u %x %X %s %c %p %% with '-', '0', width,
 * precision for %s, and the l/ll/z length modifiers (64-bit safe). */
#ifndef LIB_PRINTF_H
#define LIB_PRINTF_H

#include "types.h"

#define PRINTF_FMT(f, a) __attribute__((format(printf, f, a)))

/* Formats into buf (always terminated when size > 0); returns the length
 * the full output would have had, as C's vsnprintf does. */
int vsnprintf_(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf_(char *buf, size_t size, const char *fmt, ...) PRINTF_FMT(3, 4);

/*
 * Fixed-point decimal: writes v / 10^decimals with exactly `decimals`
 * digits after the point, trailing zeros (and a bare point) dropped, so
 * fx(buf, n, -9, 1) gives "-0.9" and fx(buf, n, 50000, 3) gives "50".
 * decimals is 0..9. Returns buf.
 */
char *fx(char *buf, size_t size, s64 v, int decimals);

#endif

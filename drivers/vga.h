/* VGA text mode (80x25 at 0xB8000), used as a mirror of the serial log. */
#ifndef DRIVERS_VGA_H
#define DRIVERS_VGA_H

#include "lib/types.h"

#define VGA_TEXT_BASE	0xB8000
#define VGA_COLS	80
#define VGA_ROWS	25

/* Clears the screen and registers it as the console sink "vga". */
void vga_init(void);
/*
 * Writes n bytes. The screen wraps to the top instead of scrolling: under a
 * hypervisor every write to the VGA window exits, and a scroll would cost
 * 2000 exits a line; wrapping costs one exit a character plus one line
 * clear. The line after the cursor is kept blank to show where the end is.
 */
void vga_write(const char *s, size_t n);

#endif

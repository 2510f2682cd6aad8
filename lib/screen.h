/*
 * A screen as a grid of character cells, the one interface the dashboard
 * (report/dashboard.c) draws through. Drivers fill it: the VGA text mode
 * (drivers/vga.c) and a linear framebuffer drawn with the build-time font
 * (drivers/fb.c). Colours are the 16 VGA colours; a cell's attribute is
 * fg | bg << 4, as in VGA text memory.
 */
#ifndef LIB_SCREEN_H
#define LIB_SCREEN_H

#include "lib/types.h"

enum screen_colour {
	COL_BLACK, COL_BLUE, COL_GREEN, COL_CYAN, COL_RED, COL_MAGENTA, COL_BROWN, COL_GREY,
	COL_DARKGREY, COL_LBLUE, COL_LGREEN, COL_LCYAN, COL_LRED, COL_LMAGENTA, COL_YELLOW,
	COL_WHITE,
};

#define SCREEN_ATTR(fg, bg)	((u8)((fg) | (bg) << 4))

/* Glyph codes past ASCII that every screen can draw (the font's and the
 * VGA code page's block characters). */
#define GLYPH_FULL_BLOCK	0x7F
#define GLYPH_LIGHT_SHADE	0x80

struct screen {
	const char *name;	/* "fb" or "vga", as the console list names it */
	int cols, rows;
	char what[48];		/* e.g. "1024x768 32 bpp framebuffer" */
	/* Draws character c (ASCII or a GLYPH_ code) at (row, col). The
	 * caller keeps row and col inside the grid. */
	void (*put)(int row, int col, u8 c, u8 attr);
	/* Optional: draws the four cells cells[0..3] (attr << 8 | c each) at
	 * (row, col..col+3), col a multiple of 4, in one store where each
	 * store exits under a hypervisor (VGA text). NULL: put each. */
	void (*put4)(int row, int col, const u16 *cells);
	/* What every cell shows after the driver's init, as attr << 8 | c
	 * (0: not known): whoever draws need not write it again, each write
	 * being an exit under a hypervisor (VGA text). */
	u16 blank;
};

#endif

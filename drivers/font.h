/*
 * The screen font: glyph bitmaps converted at build time from a Debian
 * console font (tools/tickhost/font.py writes build/gen/font.c; the font
 * is named there). Glyph i draws code FONT_FIRST + i: ASCII 0x20..0x7E,
 * then GLYPH_FULL_BLOCK and GLYPH_LIGHT_SHADE (lib/screen.h).
 */
#ifndef DRIVERS_FONT_H
#define DRIVERS_FONT_H

#include "lib/types.h"

#define FONT_FIRST		0x20
#define FONT_GLYPHS		97
#define FONT_MAX_HEIGHT		32

/* Glyph width (at most 8: one byte a row, MSB left) and height in pixels. */
extern const u8 font_width;
extern const u8 font_height;
/* Rows of each glyph; only the first font_height are used. */
extern const u8 font_bits[FONT_GLYPHS][FONT_MAX_HEIGHT];

#endif

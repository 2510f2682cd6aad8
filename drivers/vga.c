/* VGA text mode, registered as the "vga" console sink that mirrors the
 * serial log. It must not scroll: see vga_write in vga.h. */
#include "vga.h"
#include "lib/console.h"

#define ATTR 0x0700	/* light grey on black */

static volatile u16 *const screen = (volatile u16 *)VGA_TEXT_BASE;
static int row, col;

static void clear_row(int r)
{
	for (int c = 0; c < VGA_COLS; c++)
		screen[r * VGA_COLS + c] = ATTR | ' ';
}

static const struct console_sink sink = { .name = "vga", .write = vga_write };

void vga_init(void)
{
	for (int r = 0; r < VGA_ROWS; r++)
		clear_row(r);
	row = col = 0;
	console_register(&sink);
}

static void newline(void)
{
	col = 0;
	row = (row + 1) % VGA_ROWS;
	clear_row((row + 1) % VGA_ROWS);
}

void vga_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '\n') {
			newline();
			continue;
		}
		if (c == '\r')
			continue;
		if (col == VGA_COLS)
			newline();
		screen[row * VGA_COLS + col++] = ATTR | (u8)c;
	}
}

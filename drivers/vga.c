/* VGA text mode as a character grid. It must not scroll or read the
 * screen back: each access to the window exits under a hypervisor. */
#include "vga.h"
#include "arch-x86/cpu.h"
#include "lib/str.h"

static volatile u16 *const cells = (volatile u16 *)VGA_TEXT_BASE;

/* Code page 437 has the block characters at other codes. */
static u8 cp437(u8 c)
{
	if (c == GLYPH_FULL_BLOCK)
		return 0xDB;
	if (c == GLYPH_LIGHT_SHADE)
		return 0xB0;
	return c >= 0x20 && c < 0x7F ? c : '?';
}

static void put(int row, int col, u8 c, u8 attr)
{
	io_count(IO_MMIO);
	io_count(IO_CONSOLE);
	cells[row * VGA_COLS + col] = (u16)attr << 8 | cp437(c);
}

static void put4(int row, int col, const u16 *c)
{
	volatile u64 *quad = (volatile u64 *)(cells + row * VGA_COLS + col);
	u64 v = 0;

	for (int i = 3; i >= 0; i--)
		v = v << 16 | (u64)(c[i] & 0xFF00) | cp437((u8)c[i]);
	io_count(IO_MMIO);
	io_count(IO_CONSOLE);
	*quad = v;
}

void vga_init(struct screen *s)
{
	u64 blank = SCREEN_ATTR(COL_GREY, COL_BLACK) << 8 | ' ';
	volatile u64 *quad = (volatile u64 *)VGA_TEXT_BASE;

	/* Four cells a store: each store to the text window exits under a
	 * hypervisor (2000 exits were ~70 ms of a kvm_pvm boot). */
	_Static_assert(VGA_COLS * VGA_ROWS % 4 == 0, "whole quads");
	for (int i = 0; i < VGA_COLS * VGA_ROWS / 4; i++) {
		io_count(IO_MMIO);
		io_count(IO_CONSOLE);
		quad[i] = blank * 0x0001000100010001ull;
	}
	/* CRTC register 0x0A bit 5 turns the cursor off. */
	outb(0x3D4, 0x0A);
	outb(0x3D5, 0x20);
	s->name = "vga";
	s->cols = VGA_COLS;
	s->rows = VGA_ROWS;
	s->put = put;
	/* A row is 80 cells, 20 quads: the dashboard writes what changed a
	 * quad a store. */
	_Static_assert(VGA_COLS % 4 == 0, "rows of whole quads");
	s->put4 = put4;
	s->blank = (u16)blank;
	str_copy(s->what, "80x25 VGA text", sizeof(s->what));
}

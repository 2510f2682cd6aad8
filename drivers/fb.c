/* Draws character cells on a linear framebuffer with the build-time font.
 * It must not read the framebuffer back (reads of video memory are slow,
 * uncached on hardware and exits under a hypervisor), nor draw outside
 * the mode the loader reported. */
#include "fb.h"
#include "font.h"
#include "lib/printf.h"

/* The VGA palette's 16 colours as 8-bit RGB (the CGA values). */
static const u8 palette[16][3] = {
	{ 0, 0, 0 }, { 0, 0, 170 }, { 0, 170, 0 }, { 0, 170, 170 },
	{ 170, 0, 0 }, { 170, 0, 170 }, { 170, 85, 0 }, { 170, 170, 170 },
	{ 85, 85, 85 }, { 85, 85, 255 }, { 85, 255, 85 }, { 85, 255, 255 },
	{ 255, 85, 85 }, { 255, 85, 255 }, { 255, 255, 85 }, { 255, 255, 255 },
};

static struct fb_info mode;
static u32 pixel[16];		/* each palette colour in the mode's format */
static int bytes_pp;

static u32 channel(u8 v, u8 pos, u8 size)
{
	return size ? ((u32)v >> (8 - MIN(size, 8))) << pos : 0;
}

static void store(volatile u8 *p, u32 v)
{
	switch (bytes_pp) {
	case 4: *(volatile u32 *)p = v; break;
	case 3: p[0] = (u8)v; p[1] = (u8)(v >> 8); p[2] = (u8)(v >> 16); break;
	default: *(volatile u16 *)p = (u16)v; break;
	}
}

static void put(int row, int col, u8 c, u8 attr)
{
	unsigned idx = c >= FONT_FIRST && c - FONT_FIRST < FONT_GLYPHS ? c - FONT_FIRST
								       : '?' - FONT_FIRST;
	const u8 *glyph = font_bits[idx];
	u32 fg = pixel[attr & 15], bg = pixel[attr >> 4];
	volatile u8 *line = (volatile u8 *)(mode.addr + (u64)row * font_height * mode.pitch +
					    (u64)col * font_width * bytes_pp);

	for (int y = 0; y < font_height; y++, line += mode.pitch)
		for (int x = 0; x < font_width; x++)
			store(line + x * bytes_pp, glyph[y] & (0x80 >> x) ? fg : bg);
}

int fb_init(const struct fb_info *fb, struct screen *s, const char **why)
{
	if (fb->bpp != 15 && fb->bpp != 16 && fb->bpp != 24 && fb->bpp != 32) {
		*why = "framebuffer pixel format is not 15/16/24/32-bit direct colour";
		return -ENODEV;
	}
	bytes_pp = (fb->bpp + 7) / 8;
	if (fb->width < font_width || fb->height < font_height ||
	    fb->pitch < (u64)fb->width * bytes_pp) {
		*why = "framebuffer geometry is impossible";
		return -EINVAL;
	}
	if (fb->addr + (u64)fb->pitch * fb->height > FB_MAX_ADDR || fb->addr == 0) {
		*why = "framebuffer lies above 4 GiB, outside the boot page tables";
		return -ENODEV;
	}
	mode = *fb;
	for (int i = 0; i < 16; i++)
		pixel[i] = channel(palette[i][0], fb->red_pos, fb->red_size) |
			   channel(palette[i][1], fb->green_pos, fb->green_size) |
			   channel(palette[i][2], fb->blue_pos, fb->blue_size);
	s->name = "fb";
	s->cols = (int)(fb->width / font_width);
	s->rows = (int)(fb->height / font_height);
	s->put = put;
	snprintf_(s->what, sizeof(s->what), "%ux%u %u bpp framebuffer", fb->width, fb->height,
		  fb->bpp);
	/* Clear the whole mode, margins included, to the background. */
	for (u32 y = 0; y < fb->height; y++)
		for (u32 x = 0; x < fb->width; x++)
			store((volatile u8 *)(fb->addr + (u64)y * fb->pitch + x * bytes_pp), 0);
	return 0;
}

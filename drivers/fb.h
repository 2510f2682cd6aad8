/*
 * A linear framebuffer (UEFI GOP, or VBE under a BIOS GRUB) as a character
 * grid drawn with the build-time font. Any size, any direct-colour pixel
 * format of 15, 16, 24 or 32 bits the loader reports; the grid is
 * width / font_width columns by height / font_height rows from the top left.
 */
#ifndef DRIVERS_FB_H
#define DRIVERS_FB_H

#include "lib/screen.h"

struct fb_info {
	u64 addr;		/* physical address of the first pixel */
	u32 pitch;		/* bytes per scan line */
	u32 width, height;	/* pixels */
	u8 bpp;
	u8 red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
};

#define FB_MAX_ADDR	(4ull << 30)	/* boot.S maps the low 4 GiB only */

/*
 * Checks the mode, clears the screen and fills *s. Returns 0, -ENODEV
 * when the framebuffer lies beyond what is mapped or has a pixel format
 * we do not draw (why says which), -EINVAL for impossible geometry.
 */
int fb_init(const struct fb_info *fb, struct screen *s, const char **why);

#endif

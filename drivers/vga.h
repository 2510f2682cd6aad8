/* VGA text mode (80x25 at 0xB8000) as a character grid for the dashboard. */
#ifndef DRIVERS_VGA_H
#define DRIVERS_VGA_H

#include "lib/screen.h"

#define VGA_TEXT_BASE	0xB8000
#define VGA_COLS	80
#define VGA_ROWS	25

/*
 * Clears the screen, hides the hardware cursor and fills *s. The grid is
 * drawn cell by cell: under a hypervisor every write to the VGA window
 * exits, so the dashboard writes only cells that change.
 */
void vga_init(struct screen *s);

#endif

/* The i8042 keyboard controller, polled: did someone press a key? (USB
 * keyboards reach it through the firmware's legacy emulation.) */
#ifndef DRIVERS_KBD_H
#define DRIVERS_KBD_H

#include "lib/types.h"

#define I8042_DATA	0x60
#define I8042_STATUS	0x64
#define   I8042_OBF	0x01	/* output buffer full: a byte to read */
#define   I8042_AUX	0x20	/* that byte is from the mouse */

/* Empties the controller's buffer (bounded); returns false when there is
 * no controller (the status port floats to 0xFF). */
bool kbd_init(void);
/* True when a key-press byte (a make code) arrived since the last call. */
bool kbd_pressed(void);

#endif

/* Polls the i8042 for key presses. It must not program the controller
 * (the firmware set it up and a reset would need the reboot path), and
 * every loop has a bound. */
#include "kbd.h"
#include "arch-x86/cpu.h"

#define DRAIN_MAX	64

static bool present;

bool kbd_init(void)
{
	u8 st = inb(I8042_STATUS);

	present = st != 0xFF;
	for (int i = 0; present && i < DRAIN_MAX && (inb(I8042_STATUS) & I8042_OBF); i++)
		(void)inb(I8042_DATA);
	return present;
}

bool kbd_pressed(void)
{
	for (int i = 0; present && i < DRAIN_MAX; i++) {
		u8 st = inb(I8042_STATUS), b;

		if (!(st & I8042_OBF))
			return false;
		b = inb(I8042_DATA);
		/* Set 1 (translated) make codes are below 0x80; 0xE0/0xE1 prefix. */
		if (!(st & I8042_AUX) && b < 0x80)
			return true;
	}
	return false;
}

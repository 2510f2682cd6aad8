/* How a run ends: QEMU's isa-debug-exit, halt, or reboot. It must not
 * decide the verdict; it carries out the exit code it is given. */
#include "platform.h"
#include "acpi.h"
#include "cpu.h"
#include "lib/console.h"

static enum exit_mode mode = EXIT_HALT;
static const struct acpi_info *acpi;

void platform_set_exit(enum exit_mode m, const struct acpi_info *ai)
{
	mode = m;
	acpi = ai;
}

static void reboot(void)
{
	/* ACPI reset register (I/O space only: that is what PCs have). */
	if (acpi && acpi->reset_reg_valid && acpi->reset_reg.space == ACPI_GAS_IO &&
	    acpi->reset_reg.address <= 0xFFFF)
		outb((u16)acpi->reset_reg.address, acpi->reset_value);
	/* PCI reset control: full reset. */
	outb(0xCF9, 0x02);
	outb(0xCF9, 0x06);
	/* 8042 keyboard controller: pulse the reset line, bounded wait for
	 * its input buffer to drain first. */
	for (int i = 0; i < 100000 && (inb(0x64) & 0x02); i++)
		cpu_relax();
	outb(0x64, 0xFE);
}

void platform_exit(enum exit_code code)
{
	irq_disable();
	if (mode == EXIT_QEMU)
		outb(DEBUG_EXIT_PORT, (u8)code);
	else if (mode == EXIT_REBOOT)
		reboot();
	/* Still here: no debug-exit device, or the resets did nothing. */
	kprintf("# tickscope: halted (exit code %d)\n", code);
	for (;;)
		halt();
}

void platform_fatal(const char *why)
{
	kprintf("Bail out! %s\n", why);
	platform_exit(EXIT_ERROR);
}

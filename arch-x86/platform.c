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

void platform_reboot(void)
{
	console_flush();
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

void platform_debug_exit(enum exit_code code)
{
	/* A console that sends later (virtio) must have sent the verdict
	 * before QEMU goes (so too before a reset or a poweroff). */
	console_flush();
	if (mode == EXIT_QEMU)
		outb(DEBUG_EXIT_PORT, (u8)code);
}

void platform_poweroff(u16 pm1a_cnt, u16 pm1b_cnt, u8 slp_typa, u8 slp_typb)
{
	console_flush();
	/* SLP_TYP in bits 10-12 and SLP_EN (bit 13) in one write each
	 * (ACPI 6.x 4.8.3.2.1, 7.4.2); the B block only where there is one. */
	if (pm1b_cnt)
		outw(pm1b_cnt, (u16)(slp_typb << 10 | 1u << 13));
	outw(pm1a_cnt, (u16)(slp_typa << 10 | 1u << 13));
}

void platform_exit(enum exit_code code)
{
	irq_disable();
	platform_debug_exit(code);
	if (mode == EXIT_REBOOT)
		platform_reboot();
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

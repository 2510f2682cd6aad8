/* How a run ends: QEMU's isa-debug-exit, halt, or reboot. */
#ifndef ARCH_PLATFORM_H
#define ARCH_PLATFORM_H

#include "lib/types.h"

#define DEBUG_EXIT_PORT	0xF4	/* -device isa-debug-exit,iobase=0xf4,iosize=4 */

/* Codes written to isa-debug-exit; QEMU exits with (code << 1) | 1. */
enum exit_code {
	EXIT_PASS = 0,	/* QEMU status 1: every test passed or skipped */
	EXIT_FAIL = 1,	/* QEMU status 3: a device misbehaved */
	EXIT_ERROR = 2,	/* QEMU status 5: our code or the environment broke */
	EXIT_NO_LONG_MODE = 3,	/* QEMU status 7: this CPU cannot run us (boot/boot.S) */
};

enum exit_mode { EXIT_QEMU, EXIT_HALT, EXIT_REBOOT };

struct acpi_info;
/* Chooses how platform_exit ends the run; acpi (may be NULL) offers the
 * FADT reset register for reboots. */
void platform_set_exit(enum exit_mode mode, const struct acpi_info *acpi);
/* Ends the run: isa-debug-exit (then halt, when no such device took it),
 * halt, or reboot (ACPI reset register, port 0xCF9, then the 8042). */
void platform_exit(enum exit_code code) __attribute__((noreturn));
/* isa-debug-exit with code when the mode is EXIT_QEMU; returns when no
 * such device took it (on hardware, or a VM without one). */
void platform_debug_exit(enum exit_code code);
/* Resets the machine: the FADT reset register, port 0xCF9, then the 8042.
 * Returns only when none of them worked. */
void platform_reboot(void);
/* Enters S5 through the PM1 control ports with the given sleep types;
 * returns only when the machine did not turn off. */
void platform_poweroff(u16 pm1a_cnt, u16 pm1b_cnt, u8 slp_typa, u8 slp_typb);
/* Prints "Bail out! why" and ends the run with EXIT_ERROR. */
void platform_fatal(const char *why) __attribute__((noreturn));

#endif

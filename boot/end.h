/* How a run ends at the machine: the finished dashboard stays up (hold=),
 * then isa-debug-exit under QEMU, else end=halt|reboot|poweroff. */
#ifndef BOOT_END_H
#define BOOT_END_H

#include "arch-x86/acpi.h"
#include "arch-x86/platform.h"
#include "lib/cmdline.h"

/* Checks end= and hold= at boot, so that a bad value is a warning in the
 * report's header rather than a surprise at the end. */
void end_check_options(struct cmdline *cmd);
/*
 * Ends the run with code. hold=N keeps the screen N seconds or until a
 * key press (printing "# hold: ..." so a host can take its picture). Then
 * the exit chosen by exit= (isa-debug-exit in a virtual machine); when that
 * returns, end=: halt (the default where there is a screen or no virtual
 * machine (vm): the summary stays, a key press reboots), reboot, or
 * poweroff (ACPI S5; the default for a VM with neither a screen nor
 * isa-debug-exit). Before a halt or a poweroff serial says the exit code,
 * for a host with no exit device to read (Bochs). Never returns.
 */
void end_run(enum exit_code code, struct cmdline *cmd, const struct acpi_info *acpi,
	     bool vm, bool screen) __attribute__((noreturn));

#endif

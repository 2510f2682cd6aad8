/* Which serial consoles the run writes to: console= words, else the UART
 * the ACPI SPCR names, else ttyS0 at 115200. */
#ifndef BOOT_CONSOLES_H
#define BOOT_CONSOLES_H

#include "arch-x86/acpi.h"
#include "lib/cmdline.h"

/*
 * Probes and registers the chosen UARTs; an absent one is skipped at the
 * cost of a few register reads. Problems become cmdline warnings.
 */
void consoles_init(struct cmdline *cmd, const struct acpi_info *acpi);
/* What was chosen and found ("ttyS1 115200 (console=); ttyS0 absent"),
 * or NULL for the plain default (ttyS0, no SPCR), which the report does
 * not repeat. */
const char *consoles_describe(void);

#endif

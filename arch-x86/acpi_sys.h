/*
 * What the ACPI tables say about the machine around the timers: the
 * serial console the firmware names (SPCR) and how to power off (the
 * \_S5 sleep type from the DSDT with the FADT's PM1 control ports). Read
 * as untrusted input from tables acpi_init already validated.
 */
#ifndef ARCH_ACPI_SYS_H
#define ARCH_ACPI_SYS_H

#include "acpi.h"

/* SPCR (Microsoft "Serial Port Console Redirection Table") offsets. */
#define SPCR_INTERFACE		36	/* 0 = 16550, 1 = 16450, 0x12 = 16550 (GAS) */
#define SPCR_BASE		40	/* GAS of the UART's registers */
#define SPCR_BAUD		58	/* 3 = 9600, 4 = 19200, 6 = 57600, 7 = 115200, 0 = as set */
#define SPCR_MIN_LEN		80

/* FADT fields for S5 (ACPI 6.x table 5.9). */
#define FADT_DSDT		40
#define FADT_PM1A_CNT_BLK	64
#define FADT_PM1B_CNT_BLK	68
#define FADT_X_DSDT		140
#define PM1_SLP_TYP_SHIFT	10
#define PM1_SLP_EN		(1u << 13)

struct acpi_spcr {
	struct acpi_gas base;	/* I/O port or MMIO address of the UART */
	u32 baud;		/* 0: keep what the firmware set */
	u8 interface;
};

struct acpi_s5 {
	u16 pm1a_cnt, pm1b_cnt;	/* I/O ports; pm1b_cnt 0 when there is none */
	u8 slp_typa, slp_typb;
};

/* The SPCR's console. Returns 0, -ENODEV without an SPCR, -EINVAL when it
 * names something other than a 16550-compatible UART (why says what). */
int acpi_spcr(const struct acpi_info *ai, struct acpi_spcr *out, const char **why);

/*
 * The S5 (soft-off) values: SLP_TYPa/b from the DSDT's \_S5_ package,
 * found by a bounded scan for the bytes NameOp "_S5_" PackageOp and a
 * decode of the package's first two integer elements (Byte, Word, Zero,
 * One prefixes only), never a full AML parse; the ports from the FADT.
 * Returns 0, or -ENODEV (why says which part is missing or malformed).
 */
int acpi_s5(const struct acpi_info *ai, struct acpi_s5 *out, const char **why);

/* The mapped table with signature sig (acpi_init listed it), or NULL. */
const u8 *acpi_table(const struct acpi_info *ai, const char *sig, u32 *len);

#endif

/*
 * ACPI tables, read as untrusted input: RSDP (v1/v2), RSDT/XSDT, MADT,
 * HPET and FADT. Each table's signature, length and checksum are checked;
 * a bad one, or a second one of a kind, is reported in acpi_info.problems
 * (as "SIG: what") and not used. Tables we do not parse are not read.
 */
#ifndef ARCH_ACPI_H
#define ARCH_ACPI_H

#include "lib/types.h"

#define ACPI_MAX_TABLE_LEN	(1u << 20)	/* larger tables are refused */
/* Processor entries kept: as many as tickscope starts (SMP_MAX_CPUS,
 * percpu.h says why 512); enabled ones beyond are counted in
 * cpus_beyond, not kept. */
#define ACPI_MAX_CPUS		512
#define ACPI_MAX_IOAPICS	8
#define ACPI_MAX_OVERRIDES	16
#define ACPI_MAX_TABLES		24

/* Generic Address Structure space ids. */
#define ACPI_GAS_MEMORY	0
#define ACPI_GAS_IO	1

/* MADT entry types. */
#define MADT_LAPIC	0
#define MADT_IOAPIC	1
#define MADT_ISO	2
#define MADT_LAPIC_NMI	4
#define MADT_LAPIC_ADDR	5
#define MADT_X2APIC	9

/* FADT fields we use (byte offsets, ACPI 6.x table 5.9). */
#define FADT_PM_TMR_BLK		76
#define FADT_PM_TMR_LEN		91
#define FADT_CENTURY		108
#define FADT_IAPC_BOOT_ARCH	109
#define   BOOT_ARCH_NO_CMOS_RTC	(1u << 5)
#define FADT_FLAGS		112
#define   FADT_TMR_VAL_EXT	(1u << 8)	/* PM timer is 32-bit */
#define FADT_RESET_REG		116
#define FADT_RESET_VALUE	128
#define FADT_X_PM_TMR_BLK	208

struct acpi_gas {
	u8 space;	/* ACPI_GAS_MEMORY or ACPI_GAS_IO */
	u8 bit_width;
	u8 bit_offset;
	u8 access_size;
	u64 address;
};

struct acpi_cpu {
	u32 apic_id;
	u32 uid;
	bool enabled;
};

struct acpi_ioapic {
	u8 id;
	u32 address;
	u32 gsi_base;
};

struct acpi_override {
	u8 source;	/* ISA IRQ */
	u32 gsi;
	u16 flags;	/* MPS INTI flags: polarity bits 0-1, trigger bits 2-3 */
};

struct acpi_info {
	bool present;		/* a valid RSDP and root table were found */
	u8 revision;		/* RSDP revision: 0 = ACPI 1.0, 2 = 2.0+ */
	u64 rsdp_addr;		/* 0 when it came from the loader's copy */
	char oem[7];
	bool xsdt;		/* the XSDT (not the RSDT) was walked */

	bool madt;
	u64 lapic_addr;
	bool pcat_compat;	/* dual 8259s present */
	struct acpi_cpu cpus[ACPI_MAX_CPUS];
	int ncpus;		/* entries, enabled or not */
	int cpus_beyond;	/* enabled entries past ACPI_MAX_CPUS, not kept */
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	int nioapics;
	struct acpi_override overrides[ACPI_MAX_OVERRIDES];
	int noverrides;

	bool hpet;
	struct acpi_gas hpet_base;
	u32 hpet_block_id;
	u8 hpet_number;
	u16 hpet_min_tick;

	bool fadt;
	u8 fadt_revision;
	struct acpi_gas pm_timer;	/* address 0 when there is none */
	bool pm_timer_32bit;
	u8 century_reg;			/* CMOS index, 0 = none */
	u16 boot_arch;
	bool reset_reg_valid;
	struct acpi_gas reset_reg;
	u8 reset_value;

	struct { char sig[5]; u64 addr; } tables[ACPI_MAX_TABLES];	/* valid ones */
	int ntables;

	char problems[8][96];		/* tables refused, and why */
	int nproblems;
};

/*
 * Finds the RSDP: the loader's copy when rsdp_len > 0 (multiboot2; UEFI
 * machines need it), else a scan of the EBDA's first KiB and
 * 0xE0000-0xFFFFF. Then walks the root table and parses MADT, HPET and
 * FADT into ai. Returns 0 when ACPI was found (ai->present), -ENODEV
 * otherwise; table problems never stop the walk.
 */
int acpi_init(const u8 *rsdp_copy, u32 rsdp_len, struct acpi_info *ai);

/* The first problem noted about the table with signature sig (e.g.
 * "HPET"), or NULL: why a table a driver needs was refused. */
const char *acpi_problem(const struct acpi_info *ai, const char *sig);

/* Sum of len bytes mod 256 (a valid ACPI structure sums to 0). */
u8 acpi_checksum(const void *p, u32 len);

/* The GSI, and MPS flags, an ISA IRQ is wired to (identity unless a MADT
 * override says otherwise). */
u32 acpi_isa_gsi(const struct acpi_info *ai, u8 irq, u16 *flags);

/* Number of enabled processors in the MADT, those beyond ACPI_MAX_CPUS
 * included (1 when there is no MADT). */
int acpi_enabled_cpus(const struct acpi_info *ai);

#endif

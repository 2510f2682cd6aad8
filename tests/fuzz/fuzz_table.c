/*
 * One ACPI table parser (MADT, FADT or HPET: FUZZ_TABLE is its signature)
 * behind a fixed, valid RSDP and RSDT. The input is the whole table; its
 * signature, length and checksum are set from the input so that every
 * input reaches the parser (the walker target covers bad headers).
 */
#include "fuzz.h"
#include "arch-x86/acpi.h"
#include "lib/phys.h"

#include <string.h>

#ifndef FUZZ_TABLE
#error "build with -DFUZZ_TABLE='\"APIC\"' (or FACP, HPET)"
#endif

#define BIOS_AREA	0xE0000u
#define RSDT_AT		0x100000u
#define TABLE_AT	0x200000u

static u8 bios[0x20000];
static u8 rsdt[36 + 4];

static void put32(u8 *p, u32 v) { memcpy(p, &v, 4); }

static void seal(u8 *p, u32 len, u32 at)
{
	p[at] = 0;
	p[at] = (u8)(0x100 - acpi_checksum(p, len));
}

static void setup(void)
{
	memcpy(bios, "RSD PTR ", 8);
	memcpy(bios + 9, "FUZZ  ", 6);
	put32(bios + 16, RSDT_AT);
	seal(bios, 20, 8);
	memcpy(rsdt, "RSDT", 4);
	put32(rsdt + 4, sizeof(rsdt));
	rsdt[8] = 1;
	put32(rsdt + 36, TABLE_AT);
	seal(rsdt, sizeof(rsdt), 9);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static bool ready;
	static struct acpi_info ai;
	u8 *t = malloc(size ? size : 1);
	u16 flags;

	if (!ready) {
		setup();
		ready = true;
	}
	memcpy(t, data, size);
	if (size >= 8) {
		memcpy(t, FUZZ_TABLE, 4);
		put32(t + 4, (u32)size);
	}
	if (size >= 10)
		seal(t, (u32)size, 9);
	phys_test_reset();
	phys_test_region(TABLE_AT, t, size);
	phys_test_region(RSDT_AT, rsdt, sizeof(rsdt));
	phys_test_region(BIOS_AREA, bios, sizeof(bios));
	FUZZ_CHECK(acpi_init(NULL, 0, &ai) == 0);
	FUZZ_CHECK(ai.ncpus <= ACPI_MAX_CPUS && ai.nioapics <= ACPI_MAX_IOAPICS &&
		   ai.noverrides <= ACPI_MAX_OVERRIDES);
	for (int i = 0; i < ai.nproblems; i++)
		FUZZ_CHECK(fuzz_terminated(ai.problems[i], sizeof(ai.problems[i])));
	for (int irq = 0; irq < 16; irq++)
		(void)acpi_isa_gsi(&ai, (u8)irq, &flags);
	(void)acpi_enabled_cpus(&ai);
	phys_test_reset();
	free(t);
	return 0;
}

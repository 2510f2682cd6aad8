/* The on-demand mapping above the boot identity map, end to end: a page
 * of RAM above 4 GiB (what an HPET, LAPIC or ACPI table up there would
 * get) is mapped, written and read back. */
#include "test.h"
#include "arch-x86/paging.h"
#include "report/ktap.h"

#define PATTERN	0x5A5A000000000000ul

TEST(paging, map_high)
{
	volatile u64 *p;
	u64 pages, seen[4];
	int tables, rc;

	if (!env->high_ram)
		return skip("no RAM above 4 GiB in the memory map (QEMU: -m 4G or more)");
	rc = paging_map_mmio(env->high_ram, 4096);
	paging_stats(&tables, &pages);
	diag("RAM at 0x%lx: mapped with %d new tables, %lu 2 MiB pages (rc %d)", env->high_ram,
	     tables, pages, rc);
	if (rc)
		return fail("mapping 0x%lx failed with %d", env->high_ram, rc);
	p = (volatile u64 *)(uintptr_t)env->high_ram;
	/* Distinct patterns, so that neither unbacked memory (all ones or
	 * zeros) nor a mapping onto the wrong page passes. */
	for (int i = 0; i < 4; i++)
		p[i * 64] = PATTERN ^ (env->high_ram + (u64)i * 512);
	for (int i = 0; i < 4; i++)
		seen[i] = p[i * 64];
	for (int i = 0; i < 4; i++)
		if (seen[i] != (PATTERN ^ (env->high_ram + (u64)i * 512)))
			return fail("read back 0x%lx at 0x%lx, wrote 0x%lx", seen[i],
				    env->high_ram + (u64)i * 512,
				    PATTERN ^ (env->high_ram + (u64)i * 512));
	measure("paging.high_pages", (s64)pages, 0, NULL);
	return PASS;
}

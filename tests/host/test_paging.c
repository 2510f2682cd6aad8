/* The on-demand identity map (arch-x86/paging.c) on page tables in host
 * memory, built as boot.S builds them (the low 4 GiB in 2 MiB pages):
 * MMIO and ACPI tables above 4 GiB get tables and pages, what is mapped
 * stays, conflicts and exhaustion are refused. */
#include "tests/host/check.h"
#include "arch-x86/paging.h"

#define NTABLES	12
#define FAKE_BASE 0x10000ull	/* "physical" addresses of the host tables */

static u64 tables[NTABLES][512] __attribute__((aligned(4096)));
static int used, limit = NTABLES;

static u64 t_alloc(void *ctx)
{
	(void)ctx;
	if (used == limit)
		return 0;
	memset(tables[used], 0, sizeof(tables[0]));
	return FAKE_BASE + 0x1000ull * used++;
}

static u64 *t_table(void *ctx, u64 phys)
{
	u64 i = (phys - FAKE_BASE) / 0x1000;

	(void)ctx;
	return phys >= FAKE_BASE && i < (u64)used && !(phys & 0xFFF) ? tables[i] : NULL;
}

static const struct pt_env env = { t_alloc, t_table, NULL };

/* boot.S's tables: PML4 -> PDPT -> 4 PDs of 2 MiB pages, the top GiB
 * uncached. Returns the root. */
static u64 boot_tables(void)
{
	u64 root, pdpt;

	used = 0;
	limit = NTABLES;
	root = t_alloc(NULL);
	pdpt = t_alloc(NULL);
	t_table(NULL, root)[0] = pdpt | PTE_P | PTE_RW;
	for (int g = 0; g < 4; g++) {
		u64 pd = t_alloc(NULL), *p = t_table(NULL, pd);

		t_table(NULL, pdpt)[g] = pd | PTE_P | PTE_RW;
		for (u64 i = 0; i < 512; i++)
			p[i] = ((u64)g << 30 | i << 21) | PTE_P | PTE_RW | PTE_PS |
			       (g == 3 ? PTE_PCD | PTE_PWT : 0);
	}
	return root;
}

static void test_map(void)
{
	u64 root = boot_tables(), added = 0, hpet = 0x1FED00000ull;

	/* Below 4 GiB: all there already, nothing added or allocated. */
	CHECK(pt_map_identity(&env, root, 0xFED00000, 0x400, PTE_PCD | PTE_PWT, &added) == 0);
	CHECK(added == 0 && used == 6);
	CHECK(pt_translate(&env, root, 0xFEE00300) == 0xFEE00300);
	/* An HPET at 8 GiB - 19 MiB: one new PD, one 2 MiB page, uncached. */
	CHECK(pt_translate(&env, root, hpet) == ~0ull);
	CHECK(pt_map_identity(&env, root, hpet, 0x400, PTE_PCD | PTE_PWT, &added) == 0);
	CHECK(added == 1 && used == 7);
	CHECK(pt_translate(&env, root, hpet + 0xF0) == hpet + 0xF0);
	CHECK(tables[6][(hpet >> 21) & 511] == ((hpet & ~(PAGE_2M - 1)) | PTE_P | PTE_RW | PTE_PS |
						PTE_PCD | PTE_PWT));
	/* Mapped twice: nothing changes. */
	CHECK(pt_map_identity(&env, root, hpet, 0x400, PTE_PCD | PTE_PWT, &added) == 0);
	CHECK(added == 1 && used == 7);
	/* An ACPI table straddling a 2 MiB boundary beside it: the first
	 * page is the HPET's, the second is added, in the same PD. */
	CHECK(pt_map_identity(&env, root, 0x1FEDFF000ull, 0x2000, 0, &added) == 0);
	CHECK(added == 2 && used == 7);
	CHECK(pt_translate(&env, root, 0x1FEE00100ull) == 0x1FEE00100ull);
	/* Past 512 GiB: a new PDPT and a new PD. */
	CHECK(pt_map_identity(&env, root, 0x8000000000ull + 0x1000, 16, 0, &added) == 0);
	CHECK(added == 3 && used == 9);
	CHECK(pt_translate(&env, root, 0x8000000010ull) == 0x8000000010ull);
	/* The last 2 MiB below the canonical top maps; at the top, not. */
	CHECK(pt_map_identity(&env, root, IDENTITY_TOP - 8, 8, 0, &added) == 0);
	CHECK(pt_map_identity(&env, root, IDENTITY_TOP, 8, 0, &added) == -ERANGE);
	CHECK(pt_map_identity(&env, root, IDENTITY_TOP - 8, 9, 0, &added) == -ERANGE);
	CHECK(pt_map_identity(&env, root, UINT64_MAX - 4, 8, 0, &added) == -ERANGE);
	CHECK(pt_map_identity(&env, root, 0x1000, 0, 0, &added) == -EINVAL);
}

static void test_refused(void)
{
	u64 root = boot_tables(), added = 0, *pdpt = t_table(NULL, FAKE_BASE + 0x1000);

	/* A 2 MiB page that maps elsewhere is not overwritten. */
	tables[2][5] = 0x40000000ull | PTE_P | PTE_RW | PTE_PS;
	CHECK(pt_map_identity(&env, root, 5 * PAGE_2M, 16, 0, &added) == -EEXIST && added == 0);
	CHECK(tables[2][5] == (0x40000000ull | PTE_P | PTE_RW | PTE_PS));
	/* A 1 GiB page: identity is accepted as mapped, elsewhere refused. */
	pdpt[4] = (4ull << 30) | PTE_P | PTE_RW | PTE_PS;
	CHECK(pt_map_identity(&env, root, (4ull << 30) + 0x1234, 16, 0, &added) == 0 && added == 0);
	CHECK(pt_translate(&env, root, (4ull << 30) + 0x1234) == (4ull << 30) + 0x1234);
	pdpt[5] = (9ull << 30) | PTE_P | PTE_RW | PTE_PS;
	CHECK(pt_map_identity(&env, root, 5ull << 30, 16, 0, &added) == -EEXIST);
	/* A 4 KiB table in the way is not walked. */
	tables[2][7] = (FAKE_BASE + 0x1000) | PTE_P | PTE_RW;
	CHECK(pt_map_identity(&env, root, 7 * PAGE_2M, 16, 0, &added) == -EEXIST);
	/* No table left: refused, and nothing is half-mapped. */
	limit = used;
	CHECK(pt_map_identity(&env, root, 6ull << 30, 16, 0, &added) == -ENOMEM && added == 0);
	CHECK(pt_translate(&env, root, 6ull << 30) == ~0ull);
	/* A root out of the accessor's reach. */
	CHECK(pt_map_identity(&env, 0x123000, 6ull << 30, 16, 0, &added) == -EFAULT);
}

int main(void)
{
	test_map();
	test_refused();
	return check_report("test_paging");
}

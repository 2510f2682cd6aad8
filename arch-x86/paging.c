/* On-demand identity mapping above the boot page tables: the pure walk
 * (pt_map_identity, pt_translate) and the kernel's pool of tables. It must
 * not change a mapping that already exists. */
#include "paging.h"
#include "lib/str.h"

/* The table an entry points to, allocating and linking a new one when
 * the entry is empty. NULL (with *rc) when it cannot. */
static u64 *next_level(const struct pt_env *e, u64 *entry, int *rc)
{
	u64 *t;

	if (!(*entry & PTE_P)) {
		u64 phys = e->alloc(e->ctx);

		if (!phys) {
			*rc = -ENOMEM;
			return NULL;
		}
		*entry = phys | PTE_P | PTE_RW;
	} else if (*entry & PTE_PS) {
		*rc = -EEXIST;		/* callers check large pages first */
		return NULL;
	}
	t = e->table(e->ctx, *entry & PTE_ADDR);
	if (!t)
		*rc = -EFAULT;
	return t;
}

/* One 2 MiB page at va (aligned). 0 when mapped or already identity. */
static int map_2m(const struct pt_env *e, u64 *pml4, u64 va, u64 flags, u64 *added)
{
	u64 *pdpt, *pd, *pde, *pdpte;
	int rc = 0;

	pdpt = next_level(e, &pml4[(va >> 39) & 511], &rc);
	if (!pdpt)
		return rc;
	pdpte = &pdpt[(va >> 30) & 511];
	if ((*pdpte & (PTE_P | PTE_PS)) == (PTE_P | PTE_PS))
		return (*pdpte & PTE_ADDR & ~(PAGE_1G - 1)) == (va & ~(PAGE_1G - 1)) ? 0 : -EEXIST;
	pd = next_level(e, pdpte, &rc);
	if (!pd)
		return rc;
	pde = &pd[(va >> 21) & 511];
	if (*pde & PTE_P) {
		if (!(*pde & PTE_PS))
			return -EEXIST;		/* a 4 KiB table: not ours to change */
		return (*pde & PTE_ADDR & ~(PAGE_2M - 1)) == va ? 0 : -EEXIST;
	}
	*pde = va | PTE_P | PTE_RW | PTE_PS | flags;
	(*added)++;
	return 0;
}

int pt_map_identity(const struct pt_env *e, u64 root, u64 phys, u64 len, u64 flags, u64 *added)
{
	u64 *pml4 = e->table(e->ctx, root & PTE_ADDR), va, end;

	if (len == 0)
		return -EINVAL;
	if (phys > IDENTITY_TOP - 1 || len > IDENTITY_TOP - phys)
		return -ERANGE;
	if (!pml4)
		return -EFAULT;
	end = phys + len;
	for (va = phys & ~(PAGE_2M - 1); va < end; va += PAGE_2M) {
		int rc = map_2m(e, pml4, va, flags & (PTE_PWT | PTE_PCD), added);

		if (rc)
			return rc;
	}
	return 0;
}

u64 pt_translate(const struct pt_env *e, u64 root, u64 virt)
{
	u64 *t = e->table(e->ctx, root & PTE_ADDR), ent;

	if (!t || virt >= IDENTITY_TOP)
		return ~0ull;
	ent = t[(virt >> 39) & 511];
	if (!(ent & PTE_P) || (ent & PTE_PS) || !(t = e->table(e->ctx, ent & PTE_ADDR)))
		return ~0ull;
	ent = t[(virt >> 30) & 511];
	if (!(ent & PTE_P))
		return ~0ull;
	if (ent & PTE_PS)
		return (ent & PTE_ADDR & ~(PAGE_1G - 1)) | (virt & (PAGE_1G - 1));
	if (!(t = e->table(e->ctx, ent & PTE_ADDR)))
		return ~0ull;
	ent = t[(virt >> 21) & 511];
	if (!(ent & PTE_P) || !(ent & PTE_PS))
		return ~0ull;
	return (ent & PTE_ADDR & ~(PAGE_2M - 1)) | (virt & (PAGE_2M - 1));
}

#ifndef HOST_TEST
#include "cpu.h"
/* Enough for MMIO in a dozen separate GiBs; each new GiB takes one PD,
 * each new 512 GiB one PDPT. */
#define POOL_TABLES	16
#define LOW_LIMIT	0x100000000ull

static u8 pool[POOL_TABLES][4096] __attribute__((aligned(4096)));
static int pool_used;
static u64 pages_added;

static u64 pool_alloc(void *ctx)
{
	(void)ctx;
	if (pool_used == POOL_TABLES)
		return 0;
	memset(pool[pool_used], 0, sizeof(pool[0]));
	/* The kernel sits in the identity-mapped low 4 GiB: the address of
	 * the table is its physical address. */
	return (u64)(uintptr_t)pool[pool_used++];
}

static u64 *low_table(void *ctx, u64 phys)
{
	(void)ctx;
	return phys && phys < LOW_LIMIT ? (u64 *)(uintptr_t)phys : NULL;
}

static const struct pt_env kernel_env = { pool_alloc, low_table, NULL };

/* Physical address bits (CPUID 0x80000008 EAX[7:0]; 36 without the
 * leaf): an entry naming an address at or beyond 2^bits sets reserved
 * bits, and using it faults (#PF with RSVD). */
static u64 phys_limit(void)
{
	u32 bits = cpuid(0x80000000, 0).eax >= 0x80000008 ? cpuid(0x80000008, 0).eax & 0xFF : 36;

	return bits >= 52 || bits < 32 ? 1ull << 52 : 1ull << bits;
}

int paging_map_mmio(u64 phys, u64 len)
{
	u64 cr3;
	int rc;

	if (len && phys < LOW_LIMIT && len <= LOW_LIMIT - phys)
		return 0;
	if (phys >= phys_limit() || len > phys_limit() - phys)
		return -ERANGE;
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	rc = pt_map_identity(&kernel_env, cr3, phys, len, PTE_PCD | PTE_PWT, &pages_added);
	/* Entries went from not present to present: no stale translation
	 * can exist, but reloading CR3 costs nothing here and leaves no
	 * doubt on CPUs that cache paging-structure entries. */
	__asm__ volatile("mov %0, %%cr3" :: "r"(cr3) : "memory");
	return rc;
}

void paging_stats(int *tables, u64 *pages)
{
	*tables = pool_used;
	*pages = pages_added;
}
#endif

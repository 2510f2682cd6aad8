/* Mapping physical ranges above the boot identity map on demand: MMIO
 * (HPET, LAPIC, PM timer) and ACPI tables that firmware placed above
 * 4 GiB. The page-table walk is pure (tables reached through accessors)
 * so that host tests can run it on tables in their own memory. */
#ifndef ARCH_PAGING_H
#define ARCH_PAGING_H

#include "lib/types.h"

#define PTE_P		(1ull << 0)
#define PTE_RW		(1ull << 1)
#define PTE_PWT		(1ull << 3)
#define PTE_PCD		(1ull << 4)
#define PTE_PS		(1ull << 7)	/* a large page (2 MiB in a PD, 1 GiB in a PDPT) */
#define PTE_ADDR	0x000FFFFFFFFFF000ull
#define PAGE_2M		(1ull << 21)
#define PAGE_1G		(1ull << 30)
/* An identity map ends at the top of the lower canonical half. */
#define IDENTITY_TOP	(1ull << 47)

struct pt_env {
	/* The physical address of a new, zeroed 4 KiB table; 0 when none is left. */
	u64 (*alloc)(void *ctx);
	/* The table at physical address phys, writable; NULL when out of reach. */
	u64 *(*table)(void *ctx, u64 phys);
	void *ctx;
};

/*
 * Identity-maps [phys, phys + len) with 2 MiB pages (present, writable,
 * plus flags, e.g. PTE_PCD | PTE_PWT for MMIO) under the PML4 at root,
 * allocating the tables that are missing. What is already mapped to
 * itself (a 2 MiB or 1 GiB page) is left as it is. *added counts the
 * 2 MiB pages written. Returns 0; -EINVAL for len 0; -ERANGE when the
 * range wraps or reaches past IDENTITY_TOP; -EEXIST when a page there
 * maps somewhere else, or a 4 KiB table (which this does not walk) is in
 * the way; -ENOMEM when no table is left; -EFAULT when a table is out of
 * the accessor's reach.
 */
int pt_map_identity(const struct pt_env *e, u64 root, u64 phys, u64 len, u64 flags, u64 *added);

/* The physical address virt maps to under root (2 MiB and 1 GiB pages),
 * or ~0 when it is not mapped that way. */
u64 pt_translate(const struct pt_env *e, u64 root, u64 virt);

/*
 * The kernel's use: makes [phys, phys + len) reachable at its own address
 * (uncached), from a small static pool of tables. Below 4 GiB it is
 * already (boot.S). Returns 0 or an error of pt_map_identity.
 */
int paging_map_mmio(u64 phys, u64 len);
/* Tables taken from the pool and 2 MiB pages mapped so far, for the report. */
void paging_stats(int *tables, u64 *pages);

#endif

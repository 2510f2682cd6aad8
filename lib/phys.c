/* Physical-memory access for the parsers of firmware data: the identity
 * map in the kernel, registered buffers in host tests. It must not return
 * a range it cannot vouch for. */
#include "phys.h"

static int (*mapper)(u64 addr, u64 len);

void phys_set_mapper(int (*map)(u64 addr, u64 len))
{
	mapper = map;
}

#ifndef HOST_TEST
#define IDENTITY_LIMIT 0x100000000ull
#define HIGH_MAP_MAX	(16ull << 20)	/* the largest range mapped on demand */

const void *phys_map(u64 addr, u64 len)
{
	if (addr == 0 || addr + len < addr)
		return NULL;
	/* Above the boot identity map (ACPI tables firmware put above
	 * 4 GiB): mapped on demand, or out of reach. A firmware length is
	 * untrusted: at most HIGH_MAP_MAX is mapped that way, so that a bogus
	 * one cannot use up the tables the devices need. */
	if ((len > IDENTITY_LIMIT || addr > IDENTITY_LIMIT - len) &&
	    (!mapper || len > HIGH_MAP_MAX || mapper(addr, len)))
		return NULL;
	return (const void *)(uintptr_t)addr;
}
#else
struct region {
	u64 addr;
	const void *buf;
	u64 len;
};

static struct region regions[8];
static int nregions;

void phys_test_reset(void)
{
	nregions = 0;
}

void phys_test_region(u64 addr, const void *buf, u64 len)
{
	if (nregions < 8)
		regions[nregions++] = (struct region){ addr, buf, len };
}

const void *phys_map(u64 addr, u64 len)
{
	for (int i = 0; i < nregions; i++) {
		struct region *r = &regions[i];

		if (addr >= r->addr && len <= r->len && addr - r->addr <= r->len - len)
			return (const u8 *)r->buf + (addr - r->addr);
	}
	return NULL;
}
#endif

/* Access to physical memory, shared by the parsers of firmware data.
 * In the kernel the low 4 GiB is identity-mapped; host tests install a
 * mapping onto their own buffers. */
#ifndef LIB_PHYS_H
#define LIB_PHYS_H

#include "types.h"

/*
 * Returns a pointer to len bytes at physical address addr, or NULL when
 * the range is not accessible (beyond the identity map, wrapping, or in
 * the host tests outside the buffers they provide).
 */
const void *phys_map(u64 addr, u64 len);

/*
 * Lets phys_map reach beyond the identity map: map(addr, len) makes the
 * range reachable at its own address and returns 0 (the kernel passes
 * arch-x86's paging_map_mmio; lib cannot include it), for ranges of up
 * to 16 MiB. Without one, what lies above 4 GiB is out of reach.
 */
void phys_set_mapper(int (*map)(u64 addr, u64 len));

#ifdef HOST_TEST
/* Host tests: makes [addr, addr+len) resolve to buf; up to 8 regions. */
void phys_test_region(u64 addr, const void *buf, u64 len);
void phys_test_reset(void);
#endif

#endif

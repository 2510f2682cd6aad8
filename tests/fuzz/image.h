/*
 * A fuzz input read as a small physical memory image, so that the boot
 * parsers run unchanged over it through lib/phys.c's host mapping:
 *
 *     u8 flags, then segments: u32 addr, u32 len (little-endian), len bytes
 *
 * (a segment's len is cut to what the input still holds). A segment that
 * lies wholly in the BIOS area [0xE0000, 0x100000) is copied into one
 * zeroed 128 KiB buffer there, since the RSDP scan maps that area whole;
 * any other segment gets its own heap buffer of exactly its size, so that
 * ASan sees a read one byte past it. A segment that overlaps the BIOS area
 * or an earlier one with its own buffer is dropped: one address, one
 * content, as in physical memory. Address 0 never maps, as in the
 * kernel; nothing above 4 GiB can be described, which the kernel cannot
 * map either.
 */
#ifndef TESTS_FUZZ_IMAGE_H
#define TESTS_FUZZ_IMAGE_H

#include "lib/types.h"

#define IMAGE_BIOS_AREA		0xE0000u
#define IMAGE_BIOS_END		0x100000u
#define IMAGE_MAX_SEGMENTS	16
#define IMAGE_MAX_OWN		7	/* phys.c maps 8 regions, one is the BIOS area */

/* Image flags (the input's first byte). */
#define IMAGE_RSDP_COPY		(1u << 0)	/* acpi: segment 0 is the loader's RSDP copy */
#define IMAGE_FIX_CHECKSUMS	(1u << 1)	/* acpi: make RSDP and SDT checksums valid */

struct image_segment {
	u32 addr;
	u32 len;
	u8 *data;	/* where the segment lives while the image is loaded */
	u8 *block;	/* its heap allocation (NULL in the BIOS area) */
	bool mapped;	/* block is mapped at addr (not the RSDP copy) */
	bool bios;	/* lives in the BIOS-area buffer */
};

struct image {
	u8 flags;
	int nseg;
	struct image_segment seg[IMAGE_MAX_SEGMENTS];
};

/*
 * Parses an input into img and installs the mapping (phys_test_region).
 * Segments past IMAGE_MAX_SEGMENTS, or with their own buffer past
 * IMAGE_MAX_OWN, and segments at address 0 are dropped. With first_unmapped, segment 0 gets a heap buffer but no
 * mapping (it is the loader's RSDP copy). Returns the number of segments
 * kept.
 */
int image_load(const u8 *data, size_t size, struct image *img, bool first_unmapped);

/* Removes the mapping, zeroes what was written to the BIOS area and
 * frees the other buffers. */
void image_unload(struct image *img);

/* Sets the checksum byte of every segment that starts with an RSDP or an
 * SDT header, over the length the structure declares (cut to the
 * segment), so that mutated tables get past the checksum. */
void image_fix_checksums(struct image *img);

#endif

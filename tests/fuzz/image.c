#include "image.h"
#include "lib/phys.h"

#include <stdlib.h>
#include <string.h>

#define BIOS_LEN (IMAGE_BIOS_END - IMAGE_BIOS_AREA)

/* On the heap, so that a read past 1 MiB is an ASan report. */
static u8 *bios_area;

static u32 get32(const u8 *p)
{
	u32 v;

	memcpy(&v, p, 4);
	return v;
}

static u8 sum(const u8 *p, u32 len)
{
	u8 s = 0;

	for (u32 i = 0; i < len; i++)
		s = (u8)(s + p[i]);
	return s;
}

/* Makes p[0..len) sum to 0 by setting p[at]. */
static void fix(u8 *p, u32 len, u32 at)
{
	if (at >= len)
		return;
	p[at] = 0;
	p[at] = (u8)(0x100 - sum(p, len));
}

/* True when [a, a + n) meets the BIOS area or a segment with its own
 * buffer already mapped: one address must have one content, as physical
 * memory has (two buffers there would let the parser see different bytes
 * on two reads of the same table, which no machine does). */
static bool overlaps(const struct image *img, u32 a, u32 n)
{
	u64 end = (u64)a + n;

	if (a < IMAGE_BIOS_END && end > IMAGE_BIOS_AREA)
		return true;
	for (int i = 0; i < img->nseg; i++) {
		const struct image_segment *s = &img->seg[i];

		if (s->mapped && a < (u64)s->addr + s->len && end > s->addr)
			return true;
	}
	return false;
}

int image_load(const u8 *data, size_t size, struct image *img, bool first_unmapped)
{
	size_t off = 1;
	int nown = 0;
	bool any_bios = false;

	memset(img, 0, sizeof(*img));
	phys_test_reset();
	if (!bios_area)
		bios_area = calloc(1, BIOS_LEN);
	if (size == 0)
		return 0;
	img->flags = data[0];
	while (off + 8 <= size && img->nseg < IMAGE_MAX_SEGMENTS) {
		struct image_segment *s = &img->seg[img->nseg];
		bool unmapped = first_unmapped && img->nseg == 0;

		s->addr = get32(data + off);
		s->len = get32(data + off + 4);
		off += 8;
		if (s->len > size - off)
			s->len = (u32)(size - off);
		s->bios = !unmapped && s->addr >= IMAGE_BIOS_AREA && s->addr < IMAGE_BIOS_END &&
			  s->len <= IMAGE_BIOS_END - s->addr;
		if (s->bios) {
			s->data = bios_area + (s->addr - IMAGE_BIOS_AREA);
			any_bios = true;
		} else if (unmapped ||
			   (s->addr != 0 && nown < IMAGE_MAX_OWN && !overlaps(img, s->addr, s->len))) {
			/* The kernel's mapping is the identity: keep the host
			 * address congruent to the physical one mod 16, so that
			 * alignment is as in the kernel, and end the data at the
			 * end of the allocation, so that ASan sees a read past it. */
			u32 skew = unmapped ? 0 : s->addr & 15;

			s->block = malloc(skew + s->len + !s->len);
			s->data = s->block + skew;
			if (!unmapped) {
				phys_test_region(s->addr, s->data, s->len);
				s->mapped = true;
				nown++;
			}
		} else {
			off += s->len;
			continue;	/* address 0, overlapping, or no region left */
		}
		memcpy(s->data, data + off, s->len);
		off += s->len;
		img->nseg++;
	}
	/* The BIOS area last: a segment of its own that overlaps it wins. */
	if (any_bios)
		phys_test_region(IMAGE_BIOS_AREA, bios_area, BIOS_LEN);
	return img->nseg;
}

void image_unload(struct image *img)
{
	for (int i = 0; i < img->nseg; i++) {
		struct image_segment *s = &img->seg[i];

		if (s->bios)
			memset(s->data, 0, s->len);
		else
			free(s->block);
	}
	img->nseg = 0;
	phys_test_reset();
}

void image_fix_checksums(struct image *img)
{
	for (int i = 0; i < img->nseg; i++) {
		u8 *p = img->seg[i].data;
		u32 len = img->seg[i].len, declared;

		if (len >= 20 && !memcmp(p, "RSD PTR ", 8)) {
			fix(p, 20, 8);
			if (p[15] >= 2 && len >= 36) {
				declared = get32(p + 20);
				fix(p, MIN(declared, len), 32);
			}
		} else if (len >= 36) {
			declared = get32(p + 4);
			fix(p, MIN(declared, len), 9);
		}
	}
}

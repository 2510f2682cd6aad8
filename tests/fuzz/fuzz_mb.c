/*
 * The boot information parser, for multiboot1, multiboot2 or the PVH
 * start info (FUZZ_MAGIC is the loader's magic, or PVH_BOOT_MAGIC), over
 * a memory image (image.h) whose first segment is where the loader's
 * pointer points.
 */
#include "fuzz.h"
#include "image.h"
#include "boot/multiboot.h"

#include <string.h>

#ifndef FUZZ_MAGIC
#error "build with -DFUZZ_MAGIC=MB1_BOOT_MAGIC (or MB2_BOOT_MAGIC, PVH_BOOT_MAGIC)"
#endif

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static struct boot_info bi;
	struct image img;
	int ret;

	image_load(data, size, &img, false);
	ret = multiboot_parse(FUZZ_MAGIC, img.nseg ? img.seg[0].addr : 0, &bi);
	FUZZ_CHECK(ret == 0 || ret == -EINVAL);
	FUZZ_CHECK(bi.protocol == (FUZZ_MAGIC == MB1_BOOT_MAGIC ? BOOT_MB1 :
				   FUZZ_MAGIC == MB2_BOOT_MAGIC ? BOOT_MB2 : BOOT_PVH));
	FUZZ_CHECK(fuzz_terminated(bi.cmdline, sizeof(bi.cmdline)));
	FUZZ_CHECK(fuzz_terminated(bi.loader, sizeof(bi.loader)));
	/* One past the maximum marks "more entries were dropped". */
	FUZZ_CHECK(bi.mmap_count >= 0 && bi.mmap_count <= BOOT_MMAP_MAX + 1);
	FUZZ_CHECK(bi.rsdp_len == 0 || (bi.rsdp_len >= 20 && bi.rsdp_len <= sizeof(bi.rsdp)));
	FUZZ_CHECK(bi.nwarnings >= 0 && bi.nwarnings <= (int)ARRAY_SIZE(bi.warnings));
	for (int i = 0; i < bi.nwarnings; i++)
		FUZZ_CHECK(fuzz_terminated(bi.warnings[i], sizeof(bi.warnings[i])));
	image_unload(&img);
	return 0;
}

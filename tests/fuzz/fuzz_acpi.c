/*
 * The ACPI walker: RSDP (the loader's copy, the EBDA or the BIOS area),
 * RSDT or XSDT, and every table they list, over a memory image (image.h).
 * Flag IMAGE_RSDP_COPY hands segment 0 to acpi_init as a multiboot2
 * loader's RSDP copy; IMAGE_FIX_CHECKSUMS gets mutated tables past their
 * checksums so that the table parsers see them.
 */
#include "fuzz.h"
#include "image.h"
#include "arch-x86/acpi.h"

#include <string.h>

static void check(const struct acpi_info *ai, int ret)
{
	u16 flags;

	FUZZ_CHECK(ret == 0 || ret == -ENODEV);
	FUZZ_CHECK(ai->present == (ret == 0));
	FUZZ_CHECK(fuzz_terminated(ai->oem, sizeof(ai->oem)));
	FUZZ_CHECK(ai->ncpus >= 0 && ai->ncpus <= ACPI_MAX_CPUS);
	FUZZ_CHECK(ai->nioapics >= 0 && ai->nioapics <= ACPI_MAX_IOAPICS);
	FUZZ_CHECK(ai->noverrides >= 0 && ai->noverrides <= ACPI_MAX_OVERRIDES);
	FUZZ_CHECK(ai->nproblems >= 0 && ai->nproblems <= (int)ARRAY_SIZE(ai->problems));
	for (int i = 0; i < ai->nproblems; i++)
		FUZZ_CHECK(fuzz_terminated(ai->problems[i], sizeof(ai->problems[i])) &&
			   ai->problems[i][0]);
	FUZZ_CHECK(acpi_enabled_cpus(ai) >= 1);
	FUZZ_CHECK(!acpi_problem(ai, "HPET") || !ai->hpet || ai->nproblems > 0);
	for (int irq = 0; irq < 16; irq++)
		(void)acpi_isa_gsi(ai, (u8)irq, &flags);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static struct acpi_info ai;
	struct image img;
	bool copy = size > 0 && (data[0] & IMAGE_RSDP_COPY);
	int ret;

	image_load(data, size, &img, copy);
	if (img.flags & IMAGE_FIX_CHECKSUMS)
		image_fix_checksums(&img);
	if (copy && img.nseg > 0)
		ret = acpi_init(img.seg[0].data, img.seg[0].len, &ai);
	else
		ret = acpi_init(NULL, 0, &ai);
	check(&ai, ret);
	image_unload(&img);
	return 0;
}

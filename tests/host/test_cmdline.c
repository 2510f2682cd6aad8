/* Command-line, multiboot and PVH start-info parsing on the host, over
 * good and malformed input. It must use only HOST_LIB code (ASan/UBSan build). */
#include "tests/host/check.h"
#include "lib/cmdline.h"
#include "boot/multiboot.h"
#include "lib/phys.h"

static bool has_warning(const struct cmdline *cl, const char *needle)
{
	for (int i = 0; i < cl->nwarnings; i++)
		if (strstr(cl->warnings[i], needle))
			return true;
	return false;
}

static void test_cmdline(void)
{
	static struct cmdline cl;
	char longval[400];

	cmdline_parse("/boot/k.elf verbose test=irq.*,tsc.freq watchdog=5", true, &cl);
	CHECK(cl.nwarnings == 0);
	CHECK(cmdline_has(&cl, "verbose"));
	CHECK_STR(cmdline_get(&cl, "test"), "irq.*,tsc.freq");
	CHECK(cmdline_u64(&cl, "watchdog", 1, 600, 20) == 5);
	CHECK(cmdline_get(&cl, "verbose") == NULL);	/* a flag has no value */

	/* A list's items match whole: rtc_slow is not rtc, nor rtc_slower. */
	cmdline_parse("plant=drift,rtc_slow,relay test=rtc.*", false, &cl);
	CHECK(cmdline_list_has(&cl, "plant", "drift"));
	CHECK(cmdline_list_has(&cl, "plant", "rtc_slow"));
	CHECK(cmdline_list_has(&cl, "plant", "relay"));
	CHECK(!cmdline_list_has(&cl, "plant", "rtc"));
	CHECK(!cmdline_list_has(&cl, "plant", "relay_half"));
	CHECK(!cmdline_list_has(&cl, "plant", "rtc_slower"));
	CHECK(!cmdline_list_has(&cl, "test", "rtc"));
	CHECK(!cmdline_list_has(&cl, "oneshot_plant", "early"));

	cmdline_parse("bogus verbose=1 test watchdog=0x10 watchdog=9999 =x", false, &cl);
	CHECK(has_warning(&cl, "unknown option 'bogus'"));
	CHECK(has_warning(&cl, "'verbose' takes no value"));
	CHECK(has_warning(&cl, "'test' needs a value"));
	CHECK(has_warning(&cl, "'watchdog' given twice"));
	CHECK(has_warning(&cl, "malformed option '=x'"));
	CHECK(cmdline_u64(&cl, "watchdog", 1, 600, 20) == 20);	/* 9999 out of range */
	CHECK(has_warning(&cl, "watchdog=9999 is outside 1..600"));

	/* A number out of its option's range is warned about when parsed (its
	 * user may read it only after the warnings were printed), once. */
	cmdline_parse("tsc_hz=5 monitor=0 hz=250", false, &cl);
	CHECK(has_warning(&cl, "tsc_hz=5 is outside 1000000..100000000000"));
	CHECK(has_warning(&cl, "monitor=0 is outside 1..86400"));
	CHECK(cl.nwarnings == 2 && cmdline_get(&cl, "monitor") == NULL);
	CHECK(cmdline_u64(&cl, "tsc_hz", 1000000, 100000000000ull, 0) == 0 && cl.nwarnings == 2);
	CHECK(cmdline_u64(&cl, "hz", 100, 1000, 100) == 250);

	/* An empty value is refused, not taken as "select nothing". */
	cmdline_parse("test= verbose", false, &cl);
	CHECK(has_warning(&cl, "'test=' has an empty value") && cmdline_get(&cl, "test") == NULL);

	cmdline_parse("watchdog=abc", false, &cl);
	CHECK(cmdline_u64(&cl, "watchdog", 1, 600, 20) == 20);
	CHECK(has_warning(&cl, "watchdog=abc is not a number"));

	memset(longval, 'a', sizeof(longval));
	memcpy(longval, "test=", 5);
	longval[sizeof(longval) - 1] = 0;
	cmdline_parse(longval, false, &cl);
	CHECK(has_warning(&cl, "too long"));
	CHECK(cmdline_get(&cl, "test") == NULL);

	cmdline_parse("   \t  ", false, &cl);
	CHECK(cl.nwords == 0 && cl.nwarnings == 0);
	/* GRUB's `multiboot` passes no path: then the first word is an option. */
	cmdline_parse("verbose test=irq.*", true, &cl);
	CHECK(cmdline_has(&cl, "verbose") && cl.nwarnings == 0);
	cmdline_parse("tickscope.elf verbose", true, &cl);
	CHECK(cmdline_has(&cl, "verbose") && cl.nwords == 1 && cl.nwarnings == 0);
	cmdline_parse("averyveryveryverylongoptionname=1", false, &cl);
	CHECK(has_warning(&cl, "malformed"));
	/* More words than fit: a warning, no overflow. */
	cmdline_parse("verbose verbose verbose verbose verbose verbose verbose verbose "
		      "verbose verbose verbose verbose verbose verbose verbose verbose "
		      "verbose verbose verbose verbose verbose verbose verbose verbose "
		      "verbose verbose verbose verbose verbose verbose verbose verbose "
		      "verbose verbose", false, &cl);
	CHECK(cl.nwords == CMDLINE_MAX_WORDS);
	CHECK(cl.nwarnings == CMDLINE_MAX_WARNINGS);
	CHECK(strstr(cl.warnings[CMDLINE_MAX_WARNINGS - 1], "more problems"));
}

static void put32(u8 *p, u32 v) { memcpy(p, &v, 4); }
static void put64(u8 *p, u64 v) { memcpy(p, &v, 8); }

static void test_mb1(void)
{
	static u8 info[128], mmap[48], cmd[32];
	static struct boot_info bi;

	phys_test_reset();
	phys_test_region(0x9000, info, sizeof(info));
	phys_test_region(0xA000, mmap, sizeof(mmap));
	phys_test_region(0xB000, cmd, sizeof(cmd));
	memset(info, 0, sizeof(info));
	put32(info, MB1_INFO_CMDLINE | MB1_INFO_MMAP);
	put32(info + 16, 0xB000);
	strcpy((char *)cmd, "k.elf verbose");
	put32(info + 44, 48);
	put32(info + 48, 0xA000);
	put32(mmap, 20);
	put64(mmap + 4, 0);
	put64(mmap + 12, 0x9FC00);
	put32(mmap + 20, 1);
	put32(mmap + 24, 20);
	put64(mmap + 28, 0x100000);
	put64(mmap + 36, 0x7F00000);
	put32(mmap + 44, 1);
	CHECK(multiboot_parse(MB1_BOOT_MAGIC, 0x9000, &bi) == 0);
	CHECK(bi.protocol == 1 && bi.vga_text);
	CHECK_STR(bi.cmdline, "k.elf verbose");
	CHECK(bi.mmap_count == 2 && bi.mmap[0].len == 0x9FC00 && bi.mmap[1].base == 0x100000);
	CHECK(bi.mem_kib == (0x9FC00 + 0x7F00000) / 1024);
	CHECK(bi.nwarnings == 0);

	/* A memory map entry with an absurd size stops the walk with a warning. */
	put32(mmap + 24, 0xFFFFFFF0);
	CHECK(multiboot_parse(MB1_BOOT_MAGIC, 0x9000, &bi) == 0);
	CHECK(bi.mmap_count == 1 && bi.nwarnings == 1);
	/* A terminated string that ends 20 bytes before the end of what is
	 * mapped is read whole (a power-of-two window would stop at 16). */
	memset(cmd, 0, sizeof(cmd));
	strcpy((char *)cmd, "k.elf verbose hz=100");
	phys_test_reset();
	phys_test_region(0x9000, info, sizeof(info));
	phys_test_region(0xA000, mmap, sizeof(mmap));
	phys_test_region(0xB000, cmd, 21);
	CHECK(multiboot_parse(MB1_BOOT_MAGIC, 0x9000, &bi) == 0);
	CHECK_STR(bi.cmdline, "k.elf verbose hz=100");
	phys_test_region(0xB000, cmd, sizeof(cmd));
	/* An unterminated command line at the end of memory is cut, warned. */
	memset(cmd, 'x', sizeof(cmd));
	CHECK(multiboot_parse(MB1_BOOT_MAGIC, 0x9000, &bi) == 0);
	CHECK(strlen(bi.cmdline) == sizeof(cmd));
	CHECK(bi.nwarnings >= 1);
	/* Info pointer nowhere, unknown magic. */
	CHECK(multiboot_parse(MB1_BOOT_MAGIC, 0x123456, &bi) == -EINVAL);
	CHECK(multiboot_parse(0x12345678, 0x9000, &bi) == -EINVAL && bi.nwarnings == 1);
}

static void test_mb2(void)
{
	static u8 info[256] __attribute__((aligned(8)));
	static struct boot_info bi;
	u32 off = 8;

	phys_test_reset();
	phys_test_region(0x10000, info, sizeof(info));
	memset(info, 0, sizeof(info));
	/* cmdline tag */
	put32(info + off, MB2_TAG_CMDLINE);
	put32(info + off + 4, 8 + 8);
	memcpy(info + off + 8, "verbose", 8);
	off += 16;
	/* EFI64 tag */
	put32(info + off, MB2_TAG_EFI64);
	put32(info + off + 4, 16);
	off += 16;
	/* ACPI new tag with a 36-byte RSDP copy */
	put32(info + off, MB2_TAG_ACPI_NEW);
	put32(info + off + 4, 8 + 36);
	memcpy(info + off + 8, "RSD PTR ", 8);
	off += 48;
	/* end tag */
	put32(info + off, MB2_TAG_END);
	put32(info + off + 4, 8);
	off += 8;
	put32(info, off);
	CHECK(multiboot_parse(MB2_BOOT_MAGIC, 0x10000, &bi) == 0);
	CHECK_STR(bi.cmdline, "verbose");
	CHECK(bi.efi && !bi.vga_text);
	CHECK(bi.rsdp_len == 36 && !memcmp(bi.rsdp, "RSD PTR ", 8));
	CHECK(bi.nwarnings == 0);

	/* A tag whose size runs past the total. */
	put32(info + 8 + 4, 4000);
	CHECK(multiboot_parse(MB2_BOOT_MAGIC, 0x10000, &bi) == 0);
	CHECK(bi.nwarnings >= 1 && strstr(bi.warnings[0], "overruns"));
	put32(info + 8 + 4, 16);
	/* A total size beyond what exists, and a misaligned pointer. */
	put32(info, 100000);
	CHECK(multiboot_parse(MB2_BOOT_MAGIC, 0x10000, &bi) == -EINVAL);
	CHECK(multiboot_parse(MB2_BOOT_MAGIC, 0x10004, &bi) == -EINVAL);
	put32(info, 7);
	CHECK(multiboot_parse(MB2_BOOT_MAGIC, 0x10000, &bi) == -EINVAL);
}

/* struct hvm_start_info version 1 at 0x20000: command line, RSDP, and a
 * memory map of two entries; then each field made wrong in turn. */
static void test_pvh(void)
{
	static u8 info[64], map[48], cmd[16], rsdp[36];
	static struct boot_info bi;

	phys_test_reset();
	phys_test_region(0x20000, info, PVH_INFO_V1_SIZE);
	phys_test_region(0x21000, map, sizeof(map));
	phys_test_region(0x22000, cmd, sizeof(cmd));
	phys_test_region(0x23000, rsdp, sizeof(rsdp));
	memset(info, 0, sizeof(info));
	put32(info, PVH_BOOT_MAGIC);
	put32(info + PVH_OFF_VERSION, 1);
	put64(info + PVH_OFF_CMDLINE, 0x22000);
	put64(info + PVH_OFF_RSDP, 0x23000);
	put64(info + PVH_OFF_MEMMAP, 0x21000);
	put32(info + PVH_OFF_MEMMAP_N, 2);
	strcpy((char *)cmd, "test=irq.*");
	memcpy(rsdp, "RSD PTR ", 8);
	rsdp[15] = 2;
	put64(map, 0);
	put64(map + 8, 0x9FC00);
	put32(map + 16, 1);
	put64(map + 24, 0x100000);
	put64(map + 32, 0x7F00000);
	put32(map + 40, 1);
	CHECK(multiboot_parse(PVH_BOOT_MAGIC, 0x20000, &bi) == 0);
	CHECK(bi.protocol == BOOT_PVH && !bi.vga_text && bi.nwarnings == 0);
	CHECK_STR(boot_protocol_name(bi.protocol), "pvh");
	CHECK_STR(bi.cmdline, "test=irq.*");
	CHECK(bi.rsdp_len == 36 && !memcmp(bi.rsdp, "RSD PTR ", 8));
	CHECK(bi.mmap_count == 2 && bi.mmap[1].base == 0x100000 && bi.mmap[1].type == 1);
	CHECK(bi.mem_kib == (0x9FC00 + 0x7F00000) / 1024);

	/* An ACPI 1.0 RSDP is 20 bytes. */
	rsdp[15] = 0;
	CHECK(multiboot_parse(PVH_BOOT_MAGIC, 0x20000, &bi) == 0 && bi.rsdp_len == 20);
	/* Version 0 has no memory map: the fields past it are not read. */
	put32(info + PVH_OFF_VERSION, 0);
	CHECK(multiboot_parse(PVH_BOOT_MAGIC, 0x20000, &bi) == 0 && bi.mmap_count == 0);
	put32(info + PVH_OFF_VERSION, 1);
	/* A map that runs past memory, or absurdly long, is refused whole. */
	put32(info + PVH_OFF_MEMMAP_N, 3);
	CHECK(multiboot_parse(PVH_BOOT_MAGIC, 0x20000, &bi) == 0);
	CHECK(bi.mmap_count == 0 && bi.nwarnings == 1);
	put32(info + PVH_OFF_MEMMAP_N, 0xFFFFFFFF);
	CHECK(multiboot_parse(PVH_BOOT_MAGIC, 0x20000, &bi) == 0);
	CHECK(bi.mmap_count == 0 && bi.nwarnings == 1);
	put32(info + PVH_OFF_MEMMAP_N, 2);
	/* Pointers nowhere: warned, the rest still read. */
	put64(info + PVH_OFF_RSDP, 0x900000);
	put64(info + PVH_OFF_CMDLINE, 0x22000 + sizeof(cmd));
	CHECK(multiboot_parse(PVH_BOOT_MAGIC, 0x20000, &bi) == 0);
	CHECK(bi.rsdp_len == 0 && bi.cmdline[0] == 0 && bi.nwarnings == 2 && bi.mmap_count == 2);
	/* A wrong magic, a misaligned or unmapped start info. */
	put32(info, 0x12345678);
	CHECK(multiboot_parse(PVH_BOOT_MAGIC, 0x20000, &bi) == -EINVAL && bi.nwarnings == 1);
	put32(info, PVH_BOOT_MAGIC);
	CHECK(multiboot_parse(PVH_BOOT_MAGIC, 0x20004, &bi) == -EINVAL);
	CHECK(multiboot_parse(PVH_BOOT_MAGIC, 0x30000, &bi) == -EINVAL);
	/* A version-1 start info cut short by the end of memory keeps what
	 * version 0 holds. */
	phys_test_reset();
	phys_test_region(0x20000, info, PVH_INFO_V0_SIZE);
	CHECK(multiboot_parse(PVH_BOOT_MAGIC, 0x20000, &bi) == 0 && bi.nwarnings >= 1);
	CHECK(bi.mmap_count == 0);
}

int main(void)
{
	test_cmdline();
	test_mb1();
	test_mb2();
	test_pvh();
	return check_report("test_cmdline");
}

/* Hexdumps the firmware data the boot parsers read, for the fuzz seed
 * corpora. It must not parse or judge what it dumps: a bad blob is worth
 * dumping, and the parsers are the ones that validate. */
#include "fwdump.h"
#include "multiboot.h"
#include "arch-x86/acpi.h"
#include "lib/console.h"
#include "lib/phys.h"
#include "lib/str.h"

#define DUMP_MAX	0x10000u	/* larger blobs are cut: seeds stay small */
#define MB1_INFO_LEN	116		/* up to the framebuffer colour info */
#define MAX_TABLES	32

static u32 rd32(const u8 *p) { u32 v; memcpy(&v, p, 4); return v; }
static u64 rd64(const u8 *p) { u64 v; memcpy(&v, p, 8); return v; }

static void hexdump(const char *kind, u64 addr, const u8 *p, u32 len)
{
	static const char digits[] = "0123456789abcdef";
	char line[2 * 32 + 1];

	kprintf("# fwdump: begin %s 0x%lx %u\n", kind, addr, len);
	for (u32 off = 0; off < len; off += 32) {
		u32 n = MIN(len - off, 32u);

		for (u32 i = 0; i < n; i++) {
			line[2 * i] = digits[p[off + i] >> 4];
			line[2 * i + 1] = digits[p[off + i] & 15];
		}
		line[2 * n] = 0;
		kprintf("# fwdump: %s\n", line);
	}
	kprintf("# fwdump: end\n");
}

/* Dumps len bytes at addr when they map (else says so). */
static void dump_phys(const char *kind, u64 addr, u32 len)
{
	const u8 *p = phys_map(addr, len);

	if (!p) {
		kprintf("# fwdump: %s at 0x%lx (%u bytes) does not map\n", kind, addr, len);
		return;
	}
	hexdump(kind, addr, p, len);
}

/* A NUL-terminated string at addr, with its NUL (at most 4 KiB). */
static void dump_str(const char *kind, u64 addr)
{
	const u8 *p = phys_map(addr, 1);

	if (!p) {
		kprintf("# fwdump: %s at 0x%lx does not map\n", kind, addr);
		return;
	}
	/* Below 4 GiB everything maps in the kernel; stop at 4 KiB. */
	for (u32 n = 0; n < 4096; n++)
		if (!p[n]) {
			hexdump(kind, addr, p, n + 1);
			return;
		}
	hexdump(kind, addr, p, 4096);
}

static void dump_mb1(u32 info)
{
	const u8 *p = phys_map(info, MB1_INFO_LEN);
	u32 flags;

	if (!p)
		return;
	hexdump("mb1-info", info, p, MB1_INFO_LEN);
	flags = rd32(p);
	if (flags & MB1_INFO_CMDLINE)
		dump_str("mb1-cmdline", rd32(p + 16));
	if (flags & MB1_INFO_LOADER)
		dump_str("mb1-loader", rd32(p + 64));
	if (flags & MB1_INFO_MMAP)
		dump_phys("mb1-mmap", rd32(p + 48), MIN(rd32(p + 44), DUMP_MAX));
}

static void dump_mb2(u32 info)
{
	const u8 *p = phys_map(info, 8);

	if (p)
		dump_phys("mb2-info", info, MIN(MAX(rd32(p), 8u), DUMP_MAX));
}

/* Dumps the SDT at addr once (RSDT and XSDT list the same tables). */
static void dump_table(u64 addr, u64 *seen, int *nseen)
{
	const u8 *h = phys_map(addr, 36);

	for (int i = 0; i < *nseen; i++)
		if (seen[i] == addr)
			return;
	if (*nseen < MAX_TABLES)
		seen[(*nseen)++] = addr;
	if (!h) {
		kprintf("# fwdump: table at 0x%lx does not map\n", addr);
		return;
	}
	dump_phys("table", addr, MIN(MAX(rd32(h + 4), 36u), DUMP_MAX));
}

static void dump_root(u64 addr, u32 entry_size, u64 *seen, int *nseen)
{
	const u8 *h = phys_map(addr, 36), *t;
	u32 len;

	if (!addr || !h)
		return;
	dump_table(addr, seen, nseen);
	len = MIN(MAX(rd32(h + 4), 36u), DUMP_MAX);
	t = phys_map(addr, len);
	if (!t)
		return;
	for (u32 off = 36; off + entry_size <= len; off += entry_size)
		dump_table(entry_size == 8 ? rd64(t + off) : rd32(t + off), seen, nseen);
}

void fwdump(u32 magic, u32 info, const struct boot_info *bi, const struct acpi_info *ai)
{
	u64 seen[MAX_TABLES];
	int nseen = 0;
	const u8 *r = NULL;

	kprintf("# fwdump: magic 0x%x info 0x%x\n", magic, info);
	if (magic == MB1_BOOT_MAGIC)
		dump_mb1(info);
	else if (magic == MB2_BOOT_MAGIC)
		dump_mb2(info);
	dump_phys("ebda-ptr", 0x40E, 2);
	if (bi->rsdp_len) {
		r = bi->rsdp;
		hexdump("rsdp-copy", 0, r, bi->rsdp_len);
	}
	if (ai->rsdp_addr) {
		r = phys_map(ai->rsdp_addr, 36);
		if (r)
			hexdump("rsdp", ai->rsdp_addr, r, r[15] >= 2 ? 36 : 20);
	}
	if (!r) {
		kprintf("# fwdump: no RSDP\n");
		return;
	}
	dump_root(rd32(r + 16), 4, seen, &nseen);
	if (r[15] >= 2 && (r == bi->rsdp ? bi->rsdp_len >= 32 : true))
		dump_root(rd64(r + 24), 8, seen, &nseen);
}

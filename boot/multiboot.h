/* Boot information from multiboot1, multiboot2 or the PVH entry (Xen's
 * x86/HVM direct boot ABI), parsed as untrusted input into one
 * loader-independent structure. */
#ifndef BOOT_MULTIBOOT_H
#define BOOT_MULTIBOOT_H

#include "lib/types.h"

#define MB1_BOOT_MAGIC	0x2BADB002
#define MB2_BOOT_MAGIC	0x36D76289
/* The PVH entry (boot.S) passes the start info's own magic as the boot
 * magic, and the start info's address as the boot information. */
#define PVH_BOOT_MAGIC	0x336EC578	/* XEN_HVM_START_MAGIC_VALUE, "xEn3" */

/* struct hvm_start_info (Xen public/arch-x86/hvm/start_info.h): offsets. */
#define PVH_INFO_V0_SIZE	40	/* magic .. rsdp_paddr */
#define PVH_INFO_V1_SIZE	56	/* version 1 adds the memory map */
#define PVH_OFF_VERSION		4
#define PVH_OFF_CMDLINE		24	/* u64 physical address, 0 for none */
#define PVH_OFF_RSDP		32	/* u64 physical address, 0 for none */
#define PVH_OFF_MEMMAP		40	/* u64 physical address */
#define PVH_OFF_MEMMAP_N	48	/* u32 entries */
#define PVH_MEMMAP_ENTRY	24	/* u64 addr, u64 size, u32 type, u32 reserved */

/* boot_info.protocol */
#define BOOT_MB1	1
#define BOOT_MB2	2
#define BOOT_PVH	3

/* Multiboot1 info flags. */
#define MB1_INFO_MEM	(1u << 0)
#define MB1_INFO_CMDLINE (1u << 2)
#define MB1_INFO_MMAP	(1u << 6)
#define MB1_INFO_LOADER	(1u << 9)
#define MB1_INFO_FB	(1u << 12)

/* Multiboot2 tag types. */
#define MB2_TAG_END	0
#define MB2_TAG_CMDLINE	1
#define MB2_TAG_LOADER	2
#define MB2_TAG_MEMINFO	4
#define MB2_TAG_MMAP	6
#define MB2_TAG_FB	8
#define MB2_TAG_EFI32	11
#define MB2_TAG_EFI64	12
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15

#define MB_FB_TYPE_RGB	1
#define MB_FB_TYPE_EGA_TEXT 2
#define BOOT_MMAP_MAX	64
#define BOOT_INFO_MAX	(1u << 20)	/* larger boot info is refused */

struct boot_mmap_entry {
	u64 base;
	u64 len;
	u32 type;	/* 1 = usable RAM, 3 = ACPI reclaimable, ... */
};

/* The loader's framebuffer (multiboot "framebuffer info"). */
struct boot_fb {
	u64 addr;		/* 0 when there is no direct-colour framebuffer */
	u32 pitch, width, height;
	u8 bpp;
	u8 red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
};

struct boot_info {
	int protocol;		/* BOOT_MB1, BOOT_MB2 or BOOT_PVH; 0 when the magic was unknown */
	char cmdline[512];
	char loader[64];
	u64 mem_kib;		/* usable RAM in the memory map, KiB */
	struct boot_mmap_entry mmap[BOOT_MMAP_MAX];
	int mmap_count;
	bool efi;		/* booted by UEFI firmware (EFI system table tag) */
	bool vga_text;		/* an EGA text console is there */
	struct boot_fb fb;	/* a linear RGB framebuffer, when fb.addr != 0 */
	u8 rsdp[36];		/* copy of the RSDP a multiboot2 or PVH loader gave */
	u32 rsdp_len;		/* 0 when none was given */
	char warnings[4][96];	/* what was malformed and ignored */
	int nwarnings;
};

/*
 * Parses the boot information at physical address info for the given
 * magic. Never trusts a length: every field is checked against the
 * structure's own size and BOOT_INFO_MAX. Returns 0, or -EINVAL when the
 * magic is unknown or the structure is unusable (bi->warnings says why);
 * bi is always filled with whatever could be read.
 */
int multiboot_parse(u32 magic, u64 info, struct boot_info *bi);

/* "multiboot1", "multiboot2", "pvh", or "unknown": for reports. */
const char *boot_protocol_name(int protocol);

#endif

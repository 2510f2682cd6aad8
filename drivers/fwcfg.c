/* Reads one named file from QEMU's fw_cfg. It must not write any item, and
 * every read is bounded by the directory's count and the buffer. */
#include "fwcfg.h"
#include "arch-x86/cpu.h"
#include "lib/str.h"

static void select_item(u16 item)
{
	outw(FWCFG_SELECTOR, item);
}

static void read_bytes(u8 *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = inb(FWCFG_DATA);
}

static u32 be32(const u8 *p) { return (u32)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

int fwcfg_cmdline(char *buf, size_t size)
{
	u8 sig[4], count[4], entry[64];
	u32 n;

	select_item(FWCFG_SIGNATURE);
	read_bytes(sig, 4);
	if (memcmp(sig, "QEMU", 4))
		return -ENODEV;
	select_item(FWCFG_FILE_DIR);
	read_bytes(count, 4);
	n = MIN(be32(count), (u32)FWCFG_MAX_FILES);
	for (u32 i = 0; i < n; i++) {
		/* u32 size, u16 select, u16 reserved, char name[56]. */
		read_bytes(entry, sizeof(entry));
		entry[63] = 0;
		if (strcmp((const char *)entry + 8, FWCFG_CMDLINE_FILE))
			continue;
		size_t len = MIN((size_t)be32(entry), size - 1);

		select_item((u16)(entry[4] << 8 | entry[5]));
		read_bytes((u8 *)buf, len);
		buf[len] = 0;
		return (int)strnlen(buf, len);
	}
	return -ENODEV;
}

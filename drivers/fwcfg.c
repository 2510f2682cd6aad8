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

/* The DMA interface's access (docs/specs/fw_cfg.rst in QEMU), big-endian;
 * the device clears control when done, or leaves the error bit. */
#define DMA_CTL_ERROR	0x01
#define DMA_CTL_READ	0x02
#define DMA_CTL_SELECT	0x08
#define DMA_SPINS	100000

struct dma_access {
	u32 control, length;
	u64 address;
};

static bool has_dma;
static u8 dir[4 + 64 * FWCFG_MAX_FILES];

/* Reads n bytes of the selected item (select: item first, from its start;
 * else on from where the last read ended) into buf, which the identity
 * map puts at its physical address. False when the device reported an
 * error or never finished. */
static bool dma_read(bool select, u16 item, void *buf, u32 n)
{
	static volatile struct dma_access acc __attribute__((aligned(16)));
	u64 pa = (u64)(uintptr_t)&acc;

	acc.control = __builtin_bswap32((select ? (u32)item << 16 | DMA_CTL_SELECT : 0) |
					DMA_CTL_READ);
	acc.length = __builtin_bswap32(n);
	acc.address = __builtin_bswap64((u64)(uintptr_t)buf);
	__asm__ volatile("" ::: "memory");
	outl(FWCFG_DMA_HI, __builtin_bswap32((u32)(pa >> 32)));
	outl(FWCFG_DMA_LO, __builtin_bswap32((u32)pa));
	for (int i = 0; i < DMA_SPINS; i++) {
		u32 c = __builtin_bswap32(acc.control);

		if (!c) {
			__asm__ volatile("" ::: "memory");
			return true;
		}
		if (c & DMA_CTL_ERROR)
			return false;
		cpu_relax();
	}
	return false;
}

/* The item's next n bytes, by DMA where it is offered. */
static void read_item(bool select, u16 item, u8 *buf, size_t n)
{
	if (has_dma && dma_read(select, item, buf, (u32)n))
		return;
	if (select)
		select_item(item);
	read_bytes(buf, n);
}

int fwcfg_cmdline(char *buf, size_t size)
{
	u8 sig[4], id[4];
	u32 n;

	select_item(FWCFG_SIGNATURE);
	read_bytes(sig, 4);
	if (memcmp(sig, "QEMU", 4))
		return -ENODEV;
	select_item(FWCFG_ID);
	read_bytes(id, 4);
	has_dma = id[0] & FWCFG_ID_DMA;
	read_item(true, FWCFG_FILE_DIR, dir, 4);
	n = MIN(be32(dir), (u32)FWCFG_MAX_FILES);
	/* u32 size, u16 select, u16 reserved, char name[56], each. */
	read_item(false, FWCFG_FILE_DIR, dir + 4, 64 * n);
	for (u32 i = 0; i < n; i++) {
		u8 *entry = dir + 4 + 64 * i;

		entry[63] = 0;
		if (strcmp((const char *)entry + 8, FWCFG_CMDLINE_FILE))
			continue;
		size_t len = MIN((size_t)be32(entry), size - 1);

		read_item(true, (u16)(entry[4] << 8 | entry[5]), (u8 *)buf, len);
		buf[len] = 0;
		return (int)strnlen(buf, len);
	}
	return -ENODEV;
}

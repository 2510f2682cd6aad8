/* Parses multiboot1, multiboot2 and PVH boot information into struct boot_info.
 * It must not trust a length the loader gives, nor act on what it reads
 * (kmain does). */
#include "multiboot.h"
#include "lib/phys.h"
#include "lib/printf.h"
#include "lib/str.h"

static u32 rd32(const u8 *p) { u32 v; memcpy(&v, p, 4); return v; }
static u64 rd64(const u8 *p) { u64 v; memcpy(&v, p, 8); return v; }

/* Framebuffer info at f, laid out alike in both protocols from the
 * address: u64 addr, u32 pitch, width, height, u8 bpp, type; then for RGB
 * the position and size of red, green and blue at offset col (22 in
 * multiboot1, 24 in multiboot2, which puts a u16 reserved before them). */
static void parse_fb(struct boot_info *bi, const u8 *f, int col)
{
	bi->vga_text = f[21] == MB_FB_TYPE_EGA_TEXT;
	if (f[21] != MB_FB_TYPE_RGB)
		return;
	bi->fb = (struct boot_fb){ rd64(f), rd32(f + 8), rd32(f + 12), rd32(f + 16), f[20],
				   f[col], f[col + 1], f[col + 2], f[col + 3], f[col + 4],
				   f[col + 5] };
}

static void warn(struct boot_info *bi, const char *what)
{
	/* When the list is full, its last line says that more were dropped. */
	if (bi->nwarnings == (int)ARRAY_SIZE(bi->warnings))
		what = "more problems in the boot information than are listed here";
	else
		bi->nwarnings++;
	str_copy(bi->warnings[bi->nwarnings - 1], what, sizeof(bi->warnings[0]));
}

/* Copies a string of at most max bytes at p; warns when unterminated. */
static void copy_str(struct boot_info *bi, char *dst, size_t size,
		     const u8 *p, size_t max, const char *what)
{
	size_t n = strnlen((const char *)p, max);
	char msg[96];

	if (n == max) {
		snprintf_(msg, sizeof(msg), "%s is not terminated within %zu bytes", what, max);
		warn(bi, msg);
	}
	if (n >= size) {
		snprintf_(msg, sizeof(msg), "%s longer than %zu bytes, cut", what, size - 1);
		warn(bi, msg);
		n = size - 1;
	}
	memcpy(dst, p, n);
	dst[n] = 0;
}

/* A string given by physical address, in multiboot1: read at most 4 KiB,
 * shrinking the window near the end of what is mapped. The window is the
 * longest that maps (a binary search): halving it instead could stop short
 * of a terminator that is there, and cut a good string. */
static void copy_phys_str(struct boot_info *bi, char *dst, size_t size,
			  u64 addr, const char *what)
{
	u64 lo = 0, hi = 4097;	/* [addr, addr + lo) maps, [addr, addr + hi) does not */

	while (hi - lo > 1) {
		u64 mid = lo + (hi - lo) / 2;

		if (phys_map(addr, mid))
			lo = mid;
		else
			hi = mid;
	}
	if (!lo) {
		warn(bi, "string pointer outside memory");
		return;
	}
	copy_str(bi, dst, size, phys_map(addr, lo), lo, what);
}

static void add_mmap(struct boot_info *bi, u64 base, u64 len, u32 type)
{
	if (bi->mmap_count == BOOT_MMAP_MAX) {
		warn(bi, "memory map has more than 64 entries; rest ignored");
		bi->mmap_count++;	/* warn once */
		return;
	}
	if (bi->mmap_count > BOOT_MMAP_MAX)
		return;
	bi->mmap[bi->mmap_count++] = (struct boot_mmap_entry){ base, len, type };
	if (type == 1)
		bi->mem_kib += len / 1024;
}

static int parse_mb1(u64 info, struct boot_info *bi)
{
	const u8 *p = phys_map(info, 88);
	u32 flags;

	if (!p) {
		warn(bi, "multiboot1 info pointer outside memory");
		return -EINVAL;
	}
	flags = rd32(p);
	/* The VGA text console is a BIOS thing; multiboot1 loaders are. */
	bi->vga_text = true;
	if (flags & MB1_INFO_CMDLINE)
		copy_phys_str(bi, bi->cmdline, sizeof(bi->cmdline), rd32(p + 16), "command line");
	if (flags & MB1_INFO_LOADER)
		copy_phys_str(bi, bi->loader, sizeof(bi->loader), rd32(p + 64), "loader name");
	if (flags & MB1_INFO_MMAP) {
		u32 len = rd32(p + 44);
		const u8 *m = phys_map(rd32(p + 48), len);
		u32 off = 0;

		if (!m || len > BOOT_INFO_MAX) {
			warn(bi, "memory map outside memory or too large");
		} else {
			/* Each entry: u32 size (not counting itself), base, len, type. */
			while (off + 24 <= len) {
				u32 size = rd32(m + off);

				if (size < 20 || size > len - off - 4) {
					warn(bi, "memory map entry with a bad size");
					break;
				}
				add_mmap(bi, rd64(m + off + 4), rd64(m + off + 12), rd32(m + off + 20));
				off += size + 4;
			}
		}
	} else if (flags & MB1_INFO_MEM) {
		bi->mem_kib = (u64)rd32(p + 4) + rd32(p + 8) + 1024;
	}
	if (flags & MB1_INFO_FB) {
		const u8 *f = phys_map(info, 116);

		if (f)
			parse_fb(bi, f + 88, 22);
	}
	return 0;
}

static void parse_mb2_tag(struct boot_info *bi, u32 type, const u8 *t, u32 size,
			  bool *fb_seen)
{
	switch (type) {
	case MB2_TAG_CMDLINE:
		copy_str(bi, bi->cmdline, sizeof(bi->cmdline), t + 8, size - 8, "command line");
		break;
	case MB2_TAG_LOADER:
		copy_str(bi, bi->loader, sizeof(bi->loader), t + 8, size - 8, "loader name");
		break;
	case MB2_TAG_MMAP: {
		u32 esize = size >= 16 ? rd32(t + 8) : 0;

		if (esize < 24) {
			warn(bi, "memory map tag with a bad entry size");
			break;
		}
		/* esize <= size - off: off + esize could wrap around. */
		for (u32 off = 16; esize <= size - off; off += esize)
			add_mmap(bi, rd64(t + off), rd64(t + off + 8), rd32(t + off + 16));
		break;
	}
	case MB2_TAG_FB:
		if (size >= 38) {
			*fb_seen = true;
			parse_fb(bi, t + 8, 24);
		} else if (size >= 30) {
			*fb_seen = true;
			bi->vga_text = t[29] == MB_FB_TYPE_EGA_TEXT;
		}
		break;
	case MB2_TAG_EFI32:
	case MB2_TAG_EFI64:
		bi->efi = true;
		break;
	case MB2_TAG_ACPI_OLD:
	case MB2_TAG_ACPI_NEW: {
		u32 n = size - 8;

		/* Prefer the ACPI 2.0 copy: it carries the XSDT address. */
		if (type == MB2_TAG_ACPI_OLD && bi->rsdp_len > 20)
			break;
		if (n < 20) {
			warn(bi, "ACPI RSDP tag too short");
			break;
		}
		if (n > sizeof(bi->rsdp))
			n = sizeof(bi->rsdp);
		memcpy(bi->rsdp, t + 8, n);
		bi->rsdp_len = n;
		break;
	}
	default:
		break;
	}
}

static int parse_mb2(u64 info, struct boot_info *bi)
{
	const u8 *hdr = phys_map(info, 8);
	const u8 *p;
	u32 total, off = 8;
	bool fb_seen = false, end_seen = false;

	if (!hdr || (info & 7)) {
		warn(bi, "multiboot2 info pointer outside memory or misaligned");
		return -EINVAL;
	}
	total = rd32(hdr);
	if (total < 16 || total > BOOT_INFO_MAX || !(p = phys_map(info, total))) {
		warn(bi, "multiboot2 info has an impossible total size");
		return -EINVAL;
	}
	while (off + 8 <= total) {
		u32 type = rd32(p + off), size = rd32(p + off + 4);

		if (type == MB2_TAG_END) {
			end_seen = true;
			break;
		}
		if (size < 8 || size > total - off) {
			warn(bi, "multiboot2 tag overruns the info structure");
			break;
		}
		parse_mb2_tag(bi, type, p + off, size, &fb_seen);
		off += (size + 7) & ~7u;
	}
	if (!end_seen)
		warn(bi, "multiboot2 info has no end tag");
	/* Without a framebuffer tag, a BIOS boot still has the text console. */
	if (!fb_seen)
		bi->vga_text = !bi->efi;
	return 0;
}

/* The RSDP at addr: 20 bytes (ACPI 1.0), 36 from revision 2 on. Its
 * checksums are acpi_init's to judge. */
static void copy_rsdp(struct boot_info *bi, u64 addr)
{
	const u8 *r = phys_map(addr, 20);
	u32 n = 20;

	if (!r) {
		warn(bi, "PVH RSDP pointer outside memory");
		return;
	}
	if (r[15] >= 2 && phys_map(addr, sizeof(bi->rsdp)))
		n = sizeof(bi->rsdp);
	memcpy(bi->rsdp, phys_map(addr, n), n);
	bi->rsdp_len = n;
}

/* struct hvm_start_info: version 0 carries the command line and RSDP,
 * version 1 also the memory map; later versions only add fields. */
static int parse_pvh(u64 info, struct boot_info *bi)
{
	const u8 *p = phys_map(info, PVH_INFO_V0_SIZE);
	char msg[96];
	u32 version, n;
	u64 a;

	if (!p || (info & 7)) {
		warn(bi, "PVH start info pointer outside memory or misaligned");
		return -EINVAL;
	}
	if (rd32(p) != PVH_BOOT_MAGIC) {
		snprintf_(msg, sizeof(msg), "PVH start info magic 0x%x, not 0x%x", rd32(p),
			  PVH_BOOT_MAGIC);
		warn(bi, msg);
		return -EINVAL;
	}
	version = rd32(p + PVH_OFF_VERSION);
	if ((a = rd64(p + PVH_OFF_CMDLINE)))
		copy_phys_str(bi, bi->cmdline, sizeof(bi->cmdline), a, "command line");
	if ((a = rd64(p + PVH_OFF_RSDP)))
		copy_rsdp(bi, a);
	if (version == 0)
		return 0;
	if (!(p = phys_map(info, PVH_INFO_V1_SIZE))) {
		warn(bi, "PVH start info (version 1) runs past memory");
		return 0;
	}
	a = rd64(p + PVH_OFF_MEMMAP);
	n = rd32(p + PVH_OFF_MEMMAP_N);
	if (!a || !n)
		return 0;
	if (n > BOOT_INFO_MAX / PVH_MEMMAP_ENTRY ||
	    !(p = phys_map(a, (u64)n * PVH_MEMMAP_ENTRY))) {
		warn(bi, "PVH memory map outside memory or too large");
		return 0;
	}
	for (u32 i = 0; i < n; i++, p += PVH_MEMMAP_ENTRY)
		add_mmap(bi, rd64(p), rd64(p + 8), rd32(p + 16));
	return 0;
}

const char *boot_protocol_name(int protocol)
{
	switch (protocol) {
	case BOOT_MB1:
		return "multiboot1";
	case BOOT_MB2:
		return "multiboot2";
	case BOOT_PVH:
		return "pvh";
	default:
		return "unknown";
	}
}

int multiboot_parse(u32 magic, u64 info, struct boot_info *bi)
{
	char msg[96];

	memset(bi, 0, sizeof(*bi));
	if (magic == MB1_BOOT_MAGIC) {
		bi->protocol = 1;
		return parse_mb1(info, bi);
	}
	if (magic == MB2_BOOT_MAGIC) {
		bi->protocol = 2;
		return parse_mb2(info, bi);
	}
	if (magic == PVH_BOOT_MAGIC) {
		bi->protocol = BOOT_PVH;
		return parse_pvh(info, bi);
	}
	snprintf_(msg, sizeof(msg), "unknown boot magic 0x%x", magic);
	warn(bi, msg);
	return -EINVAL;
}

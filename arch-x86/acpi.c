/* Parses the ACPI tables (RSDP, RSDT/XSDT, MADT, HPET, FADT) as untrusted
 * input into struct acpi_info. It must not use a table whose length and
 * checksum it has not checked, nor program any device the tables name. */
#include "acpi.h"
#include "lib/offload.h"
#include "lib/phys.h"
#include "lib/printf.h"
#include "lib/str.h"

#define SDT_HEADER_LEN	36
#define RSDP_V1_LEN	20
#define RSDP_V2_LEN	36

static u16 rd16(const u8 *p) { u16 v; memcpy(&v, p, 2); return v; }
static u32 rd32(const u8 *p) { u32 v; memcpy(&v, p, 4); return v; }
static u64 rd64(const u8 *p) { u64 v; memcpy(&v, p, 8); return v; }

static void PRINTF_FMT(2, 3) problem(struct acpi_info *ai, const char *fmt, ...)
{
	va_list ap;

	/* When the list is full, its last line says that more were dropped. */
	if (ai->nproblems == (int)ARRAY_SIZE(ai->problems)) {
		str_copy(ai->problems[ai->nproblems - 1], "more ACPI problems than are listed here",
			 sizeof(ai->problems[0]));
		return;
	}
	va_start(ap, fmt);
	vsnprintf_(ai->problems[ai->nproblems++], sizeof(ai->problems[0]), fmt, ap);
	va_end(ap);
}

/* acpi_checksum's arguments, for offload(). */
struct sum_job {
	const u8 *p;
	u32 len;
};

static u64 sum_bytes(void *arg)
{
	const struct sum_job *j = arg;
	u8 sum = 0;

	for (u32 i = 0; i < j->len; i++)
		sum = (u8)(sum + j->p[i]);
	return sum;
}

/* Summed at CPL 3 (lib/offload.h) from this length on: where ring 0 is
 * interpreted each byte costs a few microseconds, the trip ~100 us. */
#define SUM_OFFLOAD_LEN	64
/* CPL 3 reaches the boot's identity map of the low 4 GiB (boot/boot.S);
 * what paging_map_mmio adds above it is the kernel's alone. */
#define USER_MAP_END	0x100000000ull

static bool user_reachable(const void *p, u64 len)
{
	return (u64)(uintptr_t)p + len <= USER_MAP_END;
}

u8 acpi_checksum(const void *p, u32 len)
{
	struct sum_job j = { p, len };

	return (u8)(len >= SUM_OFFLOAD_LEN && user_reachable(p, len) ? offload(sum_bytes, &j) :
		    sum_bytes(&j));
}

static bool rsdp_valid(const u8 *r, u32 avail)
{
	u32 len;

	if (avail < RSDP_V1_LEN || memcmp(r, "RSD PTR ", 8) || acpi_checksum(r, RSDP_V1_LEN))
		return false;
	if (r[15] < 2)
		return true;
	/* A 2.0 RSDP keeps its length at offset 20: a shorter copy (a loader's
	 * 20-byte one) cannot be checked, and the XSDT address is not in it. */
	if (avail < RSDP_V2_LEN)
		return false;
	len = rd32(r + 20);
	return len >= RSDP_V2_LEN && len <= avail && acpi_checksum(r, len) == 0;
}

/* The offset of the first "RSD PTR " at or after off (a multiple of 8)
 * among p's 8-byte-aligned positions, len when there is none, by REPNE
 * SCASQ: where the guest is interpreted (kvm_pvm) a step costs ~0.5 us,
 * and a C loop's visit to each of the 8192 paragraphs of the BIOS area
 * several times that. */
static u64 next_signature(const u8 *p, u64 off, u64 len)
{
	const u64 *q = (const u64 *)(uintptr_t)(p + off);
	u64 n = off < len ? (len - off) / 8 : 0, sig;

	memcpy(&sig, "RSD PTR ", 8);
	if (!n)
		return len;
	__asm__ volatile("repne scasq" : "+D"(q), "+c"(n) : "a"(sig) : "memory", "cc");
	/* q is one past the last qword compared: the match, or the last. */
	return q[-1] == sig ? (u64)((const u8 *)(q - 1) - p) : len;
}

/* scan_rsdp's search, for offload(): the offset of the first valid RSDP
 * in p's len bytes, len when there is none. */
struct scan_job {
	const u8 *p;
	u64 len;
};

static u64 scan_job(void *arg)
{
	const struct scan_job *j = arg;

	/* Every 16-byte boundary in order, as the specification has it;
	 * positions without the signature are skipped at once. */
	for (u64 off = 0; off + RSDP_V1_LEN <= j->len; off += 16) {
		off = next_signature(j->p, off, j->len);
		if (off % 16) {
			off -= 8;	/* not on a paragraph: go on from the next one */
			continue;
		}
		if (off + RSDP_V1_LEN > j->len)
			break;
		if (rsdp_valid(j->p + off, (u32)MIN(j->len - off, (u64)RSDP_V2_LEN)))
			return off;
	}
	return j->len;
}

/* The search runs at CPL 3 (lib/offload.h): 128 KiB of BIOS area took
 * ~6 ms of interpreted ring 0 under kvm_pvm even by REPNE SCASQ. */
static const u8 *scan_rsdp(u64 start, u64 len, u64 *at)
{
	struct scan_job j = { phys_map(start, len), len };
	u64 off;

	if (!j.p)
		return NULL;
	off = user_reachable(j.p, len) ? offload(scan_job, &j) : scan_job(&j);
	if (off >= len)
		return NULL;
	*at = start + off;
	return j.p + off;
}

/* Maps and validates the table at addr; NULL (with a problem noted) when
 * it is unreachable, truncated, or fails its checksum. */
static const u8 *map_table(struct acpi_info *ai, u64 addr, const char *want)
{
	const u8 *h = phys_map(addr, SDT_HEADER_LEN);
	char sig[5] = { 0 };
	u32 len;
	u8 sum;
	const u8 *t;

	if (!h) {
		problem(ai, "%s table at 0x%lx is outside memory", want ? want : "a", addr);
		return NULL;
	}
	memcpy(sig, h, 4);
	for (int i = 0; i < 4; i++)
		if (sig[i] < 0x20 || sig[i] > 0x7e)
			sig[i] = '?';
	if (want && memcmp(sig, want, 4)) {
		problem(ai, "%s: expected signature at 0x%lx, found something else", want, addr);
		return NULL;
	}
	len = rd32(h + 4);
	if (len < SDT_HEADER_LEN || len > ACPI_MAX_TABLE_LEN) {
		problem(ai, "%s: length %u is impossible (table at 0x%lx); ignored", sig, len, addr);
		return NULL;
	}
	t = phys_map(addr, len);
	if (!t) {
		problem(ai, "%s: %u bytes at 0x%lx run outside memory; ignored", sig, len, addr);
		return NULL;
	}
	sum = acpi_checksum(t, len);
	if (sum) {
		problem(ai, "%s: bad checksum (sum 0x%x, length %u); ignored", sig, sum, len);
		return NULL;
	}
	return t;
}

static struct acpi_gas read_gas(const u8 *p)
{
	return (struct acpi_gas){ p[0], p[1], p[2], p[3], rd64(p + 4) };
}

static void parse_madt(struct acpi_info *ai, const u8 *t, u32 len)
{
	u32 off = 44;

	if (len < 44) {
		problem(ai, "%s: %u bytes is too short", "APIC", len);
		return;
	}
	ai->madt = true;
	ai->lapic_addr = rd32(t + 36);
	ai->pcat_compat = rd32(t + 40) & 1;
	while (off + 2 <= len) {
		u8 type = t[off], elen = t[off + 1];
		const u8 *e = t + off;

		/* Past a malformed entry the rest of the table is unknown, and
		 * with it the interrupt routing (an override missed sends an
		 * IRQ to the wrong input): the table is not used at all. */
		if (elen < 2 || elen > len - off) {
			problem(ai, "%s: entry at offset %u has a bad length %u; table ignored", "APIC",
				off, elen);
			ai->madt = ai->pcat_compat = false;
			ai->lapic_addr = 0;
			ai->ncpus = ai->nioapics = ai->noverrides = ai->cpus_beyond = 0;
			return;
		}
		if ((type == MADT_LAPIC && elen >= 8) || (type == MADT_X2APIC && elen >= 16)) {
			struct acpi_cpu c = type == MADT_LAPIC ?
				(struct acpi_cpu){ e[3], e[2], rd32(e + 4) & 1 } :
				(struct acpi_cpu){ rd32(e + 4), rd32(e + 12), rd32(e + 8) & 1 };

			if (ai->ncpus < ACPI_MAX_CPUS)
				ai->cpus[ai->ncpus++] = c;
			else
				ai->cpus_beyond += c.enabled;
		} else if (type == MADT_IOAPIC && elen >= 12 && ai->nioapics < ACPI_MAX_IOAPICS) {
			ai->ioapics[ai->nioapics++] = (struct acpi_ioapic){ e[2], rd32(e + 4), rd32(e + 8) };
		} else if (type == MADT_ISO && elen >= 10 && ai->noverrides < ACPI_MAX_OVERRIDES) {
			if (e[2] != 0) /* only ISA (bus 0) overrides exist */
				problem(ai, "%s: override for bus %u ignored", "APIC", e[2]);
			else
				ai->overrides[ai->noverrides++] = (struct acpi_override){ e[3], rd32(e + 4), rd16(e + 8) };
		} else if (type == MADT_LAPIC_ADDR && elen >= 12) {
			ai->lapic_addr = rd64(e + 4);
		}
		off += elen;
	}
}

static void parse_hpet(struct acpi_info *ai, const u8 *t, u32 len)
{
	if (len < 56) {
		problem(ai, "%s: %u bytes is too short (56 needed)", "HPET", len);
		return;
	}
	/* The HPET spec wants the block in system memory; 0 is no address. */
	if (t[40] != ACPI_GAS_MEMORY || rd64(t + 44) == 0) {
		problem(ai, "%s: base address 0x%lx in address space %u is unusable; ignored", "HPET",
			rd64(t + 44), t[40]);
		return;
	}
	ai->hpet = true;
	ai->hpet_block_id = rd32(t + 36);
	ai->hpet_base = read_gas(t + 40);
	ai->hpet_number = t[52];
	ai->hpet_min_tick = rd16(t + 53);
}

static void parse_fadt(struct acpi_info *ai, const u8 *t, u32 len)
{
	if (len < 116) {
		problem(ai, "%s: %u bytes is too short (116 needed)", "FACP", len);
		return;
	}
	ai->fadt = true;
	ai->fadt_revision = t[8];
	ai->century_reg = t[FADT_CENTURY];
	ai->boot_arch = rd16(t + FADT_IAPC_BOOT_ARCH);
	ai->pm_timer_32bit = rd32(t + FADT_FLAGS) & FADT_TMR_VAL_EXT;
	/* The 64-bit X_PM_TMR_BLK, when there and set, wins (ACPI 5.2.9). */
	if (len >= FADT_X_PM_TMR_BLK + 12 && rd64(t + FADT_X_PM_TMR_BLK + 4)) {
		ai->pm_timer = read_gas(t + FADT_X_PM_TMR_BLK);
	} else if (rd32(t + FADT_PM_TMR_BLK) && t[FADT_PM_TMR_LEN] >= 4) {
		ai->pm_timer = (struct acpi_gas){ ACPI_GAS_IO, 32, 0, 3, rd32(t + FADT_PM_TMR_BLK) };
	}
	if (len >= FADT_RESET_VALUE + 1) {
		ai->reset_reg = read_gas(t + FADT_RESET_REG);
		ai->reset_value = t[FADT_RESET_VALUE];
		ai->reset_reg_valid = (rd32(t + FADT_FLAGS) & (1u << 10)) && ai->reset_reg.address;
	}
}

/* True when a table with signature sig was already listed. */
static bool listed(const struct acpi_info *ai, const u8 *sig)
{
	for (int i = 0; i < ai->ntables; i++)
		if (!memcmp(ai->tables[i].sig, sig, 4))
			return true;
	return false;
}

/*
 * Only the tables we use (MADT, HPET, FADT, SPCR) are read past their header: a checksum over
 * every listed table (SSDTs run to 100s of KiB) is work for nothing, and
 * a hostile root table listing one 1 MiB table 250,000 times would keep
 * the kernel summing for hours. A second table of a kind already parsed
 * is named and ignored, as Linux keeps the first FADT and MADT.
 */
static void parse_table(struct acpi_info *ai, u64 addr)
{
	static const char *const used[] = { "APIC", "HPET", "FACP", "SPCR" };
	const u8 *h = phys_map(addr, SDT_HEADER_LEN), *t;
	bool ours = false;

	if (!h) {
		problem(ai, "a table at 0x%lx is outside memory; ignored", addr);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(used); i++)
		ours |= !memcmp(h, used[i], 4);
	if (!ours)
		return;
	if (listed(ai, h)) {
		problem(ai, "%.4s: a second table at 0x%lx; ignored, the first one is used", h, addr);
		return;
	}
	t = map_table(ai, addr, NULL);
	if (!t)
		return;
	/* Every valid table read is listed, for the screen and for acpi_sys.c
	 * (which finds the SPCR and the FADT there). */
	if (ai->ntables < ACPI_MAX_TABLES) {
		memcpy(ai->tables[ai->ntables].sig, t, 4);
		ai->tables[ai->ntables++].addr = addr;
	}
	if (!memcmp(t, "APIC", 4))
		parse_madt(ai, t, rd32(t + 4));
	else if (!memcmp(t, "HPET", 4))
		parse_hpet(ai, t, rd32(t + 4));
	else if (!memcmp(t, "FACP", 4))
		parse_fadt(ai, t, rd32(t + 4));
}

int acpi_init(const u8 *rsdp_copy, u32 rsdp_len, struct acpi_info *ai)
{
	const u8 *r = NULL, *root;
	u64 root_addr;
	u32 entry_size, n;

	memset(ai, 0, sizeof(*ai));
	if (rsdp_len) {
		if (rsdp_valid(rsdp_copy, rsdp_len))
			r = rsdp_copy;
		else
			problem(ai, "%s: the loader's RSDP copy is invalid (%u bytes)", "RSDP", rsdp_len);
	}
	if (!r) {
		const u16 *ebda_seg = phys_map(0x40E, 2);
		u64 ebda = ebda_seg ? (u64)*ebda_seg << 4 : 0;

		if (ebda >= 0x80000 && ebda < 0xA0000)
			r = scan_rsdp(ebda, 1024, &ai->rsdp_addr);
		if (!r)
			r = scan_rsdp(0xE0000, 0x20000, &ai->rsdp_addr);
	}
	if (!r)
		return -ENODEV;
	ai->revision = r[15];
	memcpy(ai->oem, r + 9, 6);
	ai->xsdt = ai->revision >= 2 && rd64(r + 24) != 0;
	root_addr = ai->xsdt ? rd64(r + 24) : rd32(r + 16);
	root = map_table(ai, root_addr, ai->xsdt ? "XSDT" : "RSDT");
	if (!root && ai->xsdt) {
		/* A broken XSDT: fall back to the RSDT, as Linux does. */
		ai->xsdt = false;
		root = map_table(ai, rd32(r + 16), "RSDT");
	}
	if (!root)
		return -ENODEV;
	ai->present = true;
	entry_size = ai->xsdt ? 8 : 4;
	n = (rd32(root + 4) - SDT_HEADER_LEN) / entry_size;
	for (u32 i = 0; i < n; i++) {
		const u8 *e = root + SDT_HEADER_LEN + i * entry_size;

		parse_table(ai, ai->xsdt ? rd64(e) : rd32(e));
	}
	return 0;
}

const char *acpi_problem(const struct acpi_info *ai, const char *sig)
{
	for (int i = 0; i < ai->nproblems; i++)
		if (!memcmp(ai->problems[i], sig, 4) && ai->problems[i][4] == ':')
			return ai->problems[i];
	return NULL;
}

u32 acpi_isa_gsi(const struct acpi_info *ai, u8 irq, u16 *flags)
{
	for (int i = 0; i < ai->noverrides; i++)
		if (ai->overrides[i].source == irq) {
			*flags = ai->overrides[i].flags;
			return ai->overrides[i].gsi;
		}
	*flags = 0;
	return irq;
}

int acpi_enabled_cpus(const struct acpi_info *ai)
{
	int n = 0;

	for (int i = 0; i < ai->ncpus; i++)
		n += ai->cpus[i].enabled;
	n += ai->cpus_beyond;
	return ai->madt && n ? n : 1;
}

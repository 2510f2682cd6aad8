/* ACPI parsing over well-formed and deliberately malformed table blobs.
 * Built for the host under ASan/UBSan: it must use only HOST_LIB code. */
#include "tests/host/check.h"
#include "arch-x86/acpi.h"
#include "lib/phys.h"

/* A fake physical memory: BIOS area at 0xE0000, tables at 0x7FE0000. */
static u8 bios[0x20000];
static u8 tables[0x4000];
#define TBL 0x7FE0000ull

static void put16(u8 *p, u16 v) { memcpy(p, &v, 2); }
static void put32(u8 *p, u32 v) { memcpy(p, &v, 4); }
static void put64(u8 *p, u64 v) { memcpy(p, &v, 8); }

static void fix_checksum(u8 *t, u32 len, u32 at)
{
	t[at] = 0;
	t[at] = (u8)(0x100 - acpi_checksum(t, len));
}

/* Writes an SDT header at offset off of tables; returns its address. */
static u64 sdt(u32 off, const char *sig, u32 len)
{
	u8 *t = tables + off;

	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = 1;
	memcpy(t + 10, "TICKS ", 6);
	return TBL + off;
}

static void seal(u32 off)
{
	u32 len;

	memcpy(&len, tables + off + 4, 4);
	fix_checksum(tables + off, len, 9);
}

static bool has_problem(const struct acpi_info *ai, const char *needle)
{
	for (int i = 0; i < ai->nproblems; i++)
		if (strstr(ai->problems[i], needle))
			return true;
	return false;
}

enum { RSDT = 0x0, MADT = 0x100, HPET = 0x300, FADT = 0x400, XSDT = 0x600, RSDP_AT = 0x1230 };

static void build(int rev)
{
	u8 *r = bios + RSDP_AT, *m;

	memset(bios, 0, sizeof(bios));
	memset(tables, 0, sizeof(tables));
	/* RSDT: MADT, HPET, FADT */
	sdt(RSDT, "RSDT", 36 + 12);
	put32(tables + RSDT + 36, (u32)(TBL + MADT));
	put32(tables + RSDT + 40, (u32)(TBL + HPET));
	put32(tables + RSDT + 44, (u32)(TBL + FADT));
	seal(RSDT);
	/* MADT: 2 LAPICs (one disabled), 1 IOAPIC, an override, an x2APIC */
	sdt(MADT, "APIC", 44 + 8 + 8 + 12 + 10 + 16);
	m = tables + MADT;
	put32(m + 36, 0xFEE00000);
	put32(m + 40, 1);
	m += 44;
	m[0] = MADT_LAPIC; m[1] = 8; m[2] = 0; m[3] = 0; put32(m + 4, 1); m += 8;
	m[0] = MADT_LAPIC; m[1] = 8; m[2] = 1; m[3] = 1; put32(m + 4, 0); m += 8;
	m[0] = MADT_IOAPIC; m[1] = 12; m[2] = 2; put32(m + 4, 0xFEC00000); put32(m + 8, 0); m += 12;
	m[0] = MADT_ISO; m[1] = 10; m[2] = 0; m[3] = 0; put32(m + 4, 2); put16(m + 8, 0); m += 10;
	m[0] = MADT_X2APIC; m[1] = 16; put32(m + 4, 300); put32(m + 8, 1); put32(m + 12, 7);
	seal(MADT);
	/* HPET */
	sdt(HPET, "HPET", 56);
	put32(tables + HPET + 36, 0x8086A201);
	tables[HPET + 40] = ACPI_GAS_MEMORY;
	put64(tables + HPET + 44, 0xFED00000);
	seal(HPET);
	/* FADT (revision 1 layout, 116 bytes) */
	sdt(FADT, "FACP", 116);
	put32(tables + FADT + FADT_PM_TMR_BLK, 0x608);
	tables[FADT + FADT_PM_TMR_LEN] = 4;
	tables[FADT + FADT_CENTURY] = 0x32;
	put32(tables + FADT + FADT_FLAGS, FADT_TMR_VAL_EXT);
	seal(FADT);
	/* RSDP */
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "TICKS ", 6);
	r[15] = (u8)rev;
	put32(r + 16, (u32)(TBL + RSDT));
	fix_checksum(r, 20, 8);
	if (rev >= 2) {
		sdt(XSDT, "XSDT", 36 + 8);
		put64(tables + XSDT + 36, TBL + HPET);
		seal(XSDT);
		put32(r + 20, 36);
		put64(r + 24, TBL + XSDT);
		fix_checksum(r, 20, 8);
		fix_checksum(r, 36, 32);
	}
	phys_test_reset();
	phys_test_region(0xE0000, bios, sizeof(bios));
	phys_test_region(TBL, tables, sizeof(tables));
}

/* The scan takes the first valid RSDP on a 16-byte boundary: a signature
 * between two boundaries, or one whose checksum fails, is passed over. */
static void test_scan_decoys(void)
{
	static struct acpi_info ai;

	build(0);
	memcpy(bios + 0x408, bios + RSDP_AT, 20);	/* valid, 8 bytes off a boundary */
	memcpy(bios + 0x800, bios + RSDP_AT, 20);	/* checksum fails */
	bios[0x808] ^= 1;
	memcpy(bios + sizeof(bios) - 8, "RSD PTR ", 8);	/* too near the end */
	CHECK(acpi_init(NULL, 0, &ai) == 0 && ai.rsdp_addr == 0xE0000 + RSDP_AT);
	memset(bios + RSDP_AT, 0, 8);			/* none valid: no ACPI */
	CHECK(acpi_init(NULL, 0, &ai) == -ENODEV);
}

static void test_good(void)
{
	static struct acpi_info ai;
	u16 flags;

	build(0);
	CHECK(acpi_init(NULL, 0, &ai) == 0);
	CHECK(ai.present && !ai.xsdt && ai.rsdp_addr == 0xE0000 + RSDP_AT);
	CHECK_STR(ai.oem, "TICKS ");
	CHECK(ai.nproblems == 0);
	CHECK(ai.madt && ai.lapic_addr == 0xFEE00000 && ai.pcat_compat);
	CHECK(ai.ncpus == 3 && acpi_enabled_cpus(&ai) == 2);
	CHECK(ai.cpus[2].apic_id == 300 && ai.cpus[2].uid == 7);
	CHECK(ai.nioapics == 1 && ai.ioapics[0].address == 0xFEC00000);
	CHECK(acpi_isa_gsi(&ai, 0, &flags) == 2 && flags == 0);
	CHECK(acpi_isa_gsi(&ai, 8, &flags) == 8);
	CHECK(ai.hpet && ai.hpet_base.address == 0xFED00000 && ai.hpet_block_id == 0x8086A201);
	CHECK(ai.fadt && ai.pm_timer.space == ACPI_GAS_IO && ai.pm_timer.address == 0x608);
	CHECK(ai.pm_timer_32bit && ai.century_reg == 0x32);

	/* ACPI 2.0: the XSDT is walked (it lists only the HPET). */
	build(2);
	CHECK(acpi_init(NULL, 0, &ai) == 0);
	CHECK(ai.xsdt && ai.hpet && !ai.madt && ai.nproblems == 0);
	/* The loader's copy of the RSDP is used when given. */
	CHECK(acpi_init(bios + RSDP_AT, 36, &ai) == 0 && ai.rsdp_addr == 0 && ai.xsdt);
}

/* One case after another, each building its own broken tables and
 * checking the parser refuses them: a list, so it stays one function. */
static void test_malformed(void)
{
	static struct acpi_info ai;

	/* No RSDP anywhere. */
	build(0);
	memset(bios, 0, sizeof(bios));
	CHECK(acpi_init(NULL, 0, &ai) == -ENODEV && !ai.present);

	/* RSDP with a bad checksum is not found. */
	build(0);
	bios[RSDP_AT + 8] ^= 1;
	CHECK(acpi_init(NULL, 0, &ai) == -ENODEV);

	/* A loader copy that is garbage falls back to the scan, with a note. */
	build(0);
	{
		u8 junk[36] = "RSD PTR garbage";

		CHECK(acpi_init(junk, sizeof(junk), &ai) == 0 && has_problem(&ai, "RSDP copy"));
	}

	/* A table with a bad checksum is refused, the others still parsed. */
	build(0);
	tables[HPET + 50] ^= 0xFF;
	CHECK(acpi_init(NULL, 0, &ai) == 0);
	CHECK(!ai.hpet && ai.madt && ai.fadt && has_problem(&ai, "HPET: bad checksum"));

	/* Impossible lengths. */
	build(0);
	put32(tables + MADT + 4, 10);
	CHECK(acpi_init(NULL, 0, &ai) == 0 && !ai.madt && has_problem(&ai, "length 10"));
	build(0);
	put32(tables + FADT + 4, 0x7FFFFFF0);
	CHECK(acpi_init(NULL, 0, &ai) == 0 && !ai.fadt && has_problem(&ai, "impossible"));
	build(0);
	put32(tables + FADT + 4, 0x4000);	/* runs past the end of memory */
	CHECK(acpi_init(NULL, 0, &ai) == 0 && !ai.fadt && has_problem(&ai, "outside memory"));

	/* A MADT entry with length 0 makes the whole MADT unusable: what
	 * follows it (overrides, IOAPICs) is unknown. */
	build(0);
	tables[MADT + 44 + 8 + 1] = 0;
	seal(MADT);
	CHECK(acpi_init(NULL, 0, &ai) == 0 && !ai.madt && ai.ncpus == 0 && ai.nioapics == 0);
	CHECK(has_problem(&ai, "bad length 0") && acpi_enabled_cpus(&ai) == 1);
	CHECK(ai.hpet && ai.fadt);
	/* ... and one running past the table. */
	build(0);
	tables[MADT + 44 + 8 + 8 + 12 + 10 + 1] = 200;
	seal(MADT);
	CHECK(acpi_init(NULL, 0, &ai) == 0 && !ai.madt && ai.ncpus == 0 && ai.noverrides == 0);
	CHECK(has_problem(&ai, "bad length 200"));

	/* Too-short HPET and FADT tables. */
	build(0);
	put32(tables + HPET + 4, 40);
	seal(HPET);
	CHECK(acpi_init(NULL, 0, &ai) == 0 && !ai.hpet && has_problem(&ai, "HPET: 40 bytes"));
	build(0);
	put32(tables + FADT + 4, 100);
	seal(FADT);
	CHECK(acpi_init(NULL, 0, &ai) == 0 && !ai.fadt && has_problem(&ai, "FACP: 100 bytes"));

	/* RSDT entry pointing outside memory. */
	build(0);
	put32(tables + RSDT + 40, 0x12345678);
	seal(RSDT);
	CHECK(acpi_init(NULL, 0, &ai) == 0 && !ai.hpet && ai.madt && has_problem(&ai, "outside memory"));

	/* A broken XSDT falls back to the RSDT. */
	build(2);
	tables[XSDT + 20] ^= 0xFF;
	CHECK(acpi_init(NULL, 0, &ai) == 0 && !ai.xsdt && ai.madt && has_problem(&ai, "XSDT"));

	/* The RSDT itself is not an RSDT. */
	build(0);
	memcpy(tables + RSDT, "XXXX", 4);
	CHECK(acpi_init(NULL, 0, &ai) == -ENODEV && has_problem(&ai, "RSDT: expected signature"));

	/* A second table of a kind is named and ignored; the first is used. */
	build(0);
	put32(tables + RSDT + 36, (u32)(TBL + HPET));
	seal(RSDT);
	CHECK(acpi_init(NULL, 0, &ai) == 0 && ai.hpet && !ai.madt);
	CHECK(has_problem(&ai, "HPET: a second table"));

	/* An HPET at address 0 is refused; acpi_problem says why. */
	build(0);
	put64(tables + HPET + 44, 0);
	seal(HPET);
	CHECK(acpi_init(NULL, 0, &ai) == 0 && !ai.hpet && ai.madt);
	CHECK(acpi_problem(&ai, "HPET") && strstr(acpi_problem(&ai, "HPET"), "unusable"));
	CHECK(acpi_problem(&ai, "APIC") == NULL);

	/* A table we do not parse is not read, so its checksum is no problem. */
	build(0);
	memcpy(tables + HPET, "SSDT", 4);
	CHECK(acpi_init(NULL, 0, &ai) == 0 && !ai.hpet && ai.madt && ai.nproblems == 0);

	/* Many problems never overflow the list. */
	build(0);
	for (int i = 0; i < 3; i++)
		tables[MADT + 50 + i] ^= 1;
	tables[HPET + 50] ^= 1;
	tables[FADT + 50] ^= 1;
	CHECK(acpi_init(NULL, 0, &ai) == 0 && ai.nproblems == 3);
}

/* More processor entries than ACPI_MAX_CPUS: the first ones are kept,
 * the enabled ones beyond are counted (and still count as enabled CPUs),
 * disabled ones beyond are not. */
static void test_many_cpus(void)
{
	enum { BIG = 0x1000, N = ACPI_MAX_CPUS + 3 };
	static struct acpi_info ai;
	u8 *m;

	build(0);
	sdt(BIG, "APIC", 44 + 16 * N);
	m = tables + BIG;
	put32(m + 36, 0xFEE00000);
	m += 44;
	for (u32 i = 0; i < N; i++, m += 16) {
		m[0] = MADT_X2APIC;
		m[1] = 16;
		put32(m + 4, i);
		put32(m + 8, i == N - 1 ? 0 : 1);	/* the last one disabled */
		put32(m + 12, i);
	}
	seal(BIG);
	put32(tables + RSDT + 36, (u32)(TBL + BIG));
	seal(RSDT);
	CHECK(acpi_init(NULL, 0, &ai) == 0 && ai.nproblems == 0);
	CHECK(ai.ncpus == ACPI_MAX_CPUS && ai.cpus[ACPI_MAX_CPUS - 1].apic_id == ACPI_MAX_CPUS - 1);
	CHECK(ai.cpus_beyond == 2 && acpi_enabled_cpus(&ai) == ACPI_MAX_CPUS + 2);
}

int main(void)
{
	test_good();
	test_scan_decoys();
	test_malformed();
	test_many_cpus();
	return check_report("test_acpi");
}

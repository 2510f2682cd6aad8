/* The SPCR and \_S5_ readers, and console= parsing, over well-formed and
 * deliberately malformed input. Built for the host under ASan/UBSan: it
 * must use only HOST_LIB code. */
#include "tests/host/check.h"
#include "arch-x86/acpi_sys.h"
#include "boot/console_spec.h"
#include "lib/cmdline.h"
#include "lib/phys.h"

static u8 mem[0x1000];
#define BASE 0x100000ull
enum { SPCR = 0x000, FADT = 0x100, DSDT = 0x300 };

static void put32(u8 *p, u32 v) { memcpy(p, &v, 4); }
static void put64(u8 *p, u64 v) { memcpy(p, &v, 8); }

static void header(u32 off, const char *sig, u32 len)
{
	memcpy(mem + off, sig, 4);
	put32(mem + off + 4, len);
}

static void seal(u32 off)
{
	u32 len;

	memcpy(&len, mem + off + 4, 4);
	mem[off + 9] = 0;
	mem[off + 9] = (u8)(0x100 - acpi_checksum(mem + off, len));
}

static struct acpi_info info(void)
{
	struct acpi_info ai;

	memset(&ai, 0, sizeof(ai));
	ai.present = true;
	memcpy(ai.tables[0].sig, "SPCR", 4);
	ai.tables[0].addr = BASE + SPCR;
	memcpy(ai.tables[1].sig, "FACP", 4);
	ai.tables[1].addr = BASE + FADT;
	ai.ntables = 2;
	return ai;
}

static void build_spcr(u8 interface, u8 space, u64 addr, u8 baud)
{
	u8 *t = mem + SPCR;

	memset(t, 0, 0x100);
	header(SPCR, "SPCR", 80);
	t[SPCR_INTERFACE] = interface;
	t[SPCR_BASE] = space;
	t[SPCR_BASE + 1] = 8;
	t[SPCR_BASE + 3] = space == ACPI_GAS_MEMORY ? 3 : 1;
	put64(t + SPCR_BASE + 4, addr);
	t[SPCR_BAUD] = baud;
	seal(SPCR);
}

static void test_spcr(void)
{
	struct acpi_info ai = info();
	struct acpi_spcr s;
	const char *why = NULL;

	build_spcr(0, ACPI_GAS_IO, 0x2F8, 7);
	CHECK(acpi_spcr(&ai, &s, &why) == 0);
	CHECK(s.base.space == ACPI_GAS_IO && s.base.address == 0x2F8 && s.baud == 115200);
	build_spcr(0x12, ACPI_GAS_MEMORY, 0xFEDC9000, 6);
	CHECK(acpi_spcr(&ai, &s, &why) == 0);
	CHECK(s.base.space == ACPI_GAS_MEMORY && s.base.access_size == 3 && s.baud == 57600);
	build_spcr(0, ACPI_GAS_IO, 0x3F8, 0);		/* baud 0: as the firmware set it */
	CHECK(acpi_spcr(&ai, &s, &why) == 0 && s.baud == 0);
	/* Planted faults: a PL011 (type 3), PCI config space, address 0, short table. */
	build_spcr(3, ACPI_GAS_IO, 0x2F8, 7);
	CHECK(acpi_spcr(&ai, &s, &why) == -EINVAL && strstr(why, "16550"));
	build_spcr(0, 2, 0x2F8, 7);
	CHECK(acpi_spcr(&ai, &s, &why) == -EINVAL);
	build_spcr(0, ACPI_GAS_IO, 0, 7);
	CHECK(acpi_spcr(&ai, &s, &why) == -EINVAL);
	build_spcr(0, ACPI_GAS_IO, 0x2F8, 7);
	put32(mem + SPCR + 4, 60);
	CHECK(acpi_spcr(&ai, &s, &why) == -EINVAL && strstr(why, "short"));
	ai.ntables = 0;
	CHECK(acpi_spcr(&ai, &s, &why) == -ENODEV);
}

/* FADT with PM1a 0x604 (and PM1b when given) and a DSDT holding aml. */
static void build_s5(const u8 *aml, u32 n, u16 pm1b)
{
	memset(mem + FADT, 0, 0xD00);
	header(FADT, "FACP", 244);
	put32(mem + FADT + FADT_DSDT, (u32)(BASE + DSDT));
	put32(mem + FADT + FADT_PM1A_CNT_BLK, 0x604);
	put32(mem + FADT + FADT_PM1B_CNT_BLK, pm1b);
	seal(FADT);
	header(DSDT, "DSDT", 36 + 8 + n);
	memcpy(mem + DSDT + 36, "\x10\x05\x5f\x53\x42\x5f\x00\x00", 8);	/* filler */
	memcpy(mem + DSDT + 44, aml, n);
	seal(DSDT);
}

static int s5(const u8 *aml, u32 n, struct acpi_s5 *out)
{
	struct acpi_info ai = info();
	const char *why = NULL;

	build_s5(aml, n, 0);
	return acpi_s5(&ai, out, &why);
}

static void test_s5(void)
{
	struct acpi_s5 o;
	/* Name(_S5_, Package(4) { 5, 5, 0, 0 }) as iasl writes it. */
	static const u8 byte_pkg[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x0A, 0x04,
				       0x0A, 0x05, 0x0A, 0x05, 0x00, 0x00 };
	/* Name(\_S5_, Package() { Zero, Zero }), QEMU's shape. */
	static const u8 root_zero[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x04, 0x02,
					0x00, 0x00 };
	static const u8 one_word[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x07, 0x02, 0x01,
				       0x0B, 0x07, 0x00 };
	/* Planted faults: a reference to _S5_ (no NameOp), a truncated
	 * package at the table's end, a method instead of a package, a
	 * sleep type out of range. */
	static const u8 not_name[] = { 0x70, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x00, 0x00 };
	static const u8 truncated[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x0A, 0x04, 0x0A };
	static const u8 method[] = { 0x08, '_', 'S', '5', '_', 0x14, 0x04, 0x02, 0x00, 0x00 };
	static const u8 range[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0A, 0x09,
				    0x00 };

	CHECK(s5(byte_pkg, sizeof(byte_pkg), &o) == 0 && o.slp_typa == 5 && o.slp_typb == 5 &&
	      o.pm1a_cnt == 0x604 && o.pm1b_cnt == 0);
	CHECK(s5(root_zero, sizeof(root_zero), &o) == 0 && o.slp_typa == 0);
	CHECK(s5(one_word, sizeof(one_word), &o) == 0 && o.slp_typa == 1 && o.slp_typb == 7);
	CHECK(s5(not_name, sizeof(not_name), &o) == -ENODEV);
	CHECK(s5(truncated, sizeof(truncated), &o) == -ENODEV);
	CHECK(s5(method, sizeof(method), &o) == -ENODEV);
	CHECK(s5(range, sizeof(range), &o) == -ENODEV);
	/* A DSDT with a bad checksum is not read. */
	build_s5(byte_pkg, sizeof(byte_pkg), 0);
	mem[DSDT + 40]++;
	{
		struct acpi_info ai = info();
		const char *why = NULL;

		CHECK(acpi_s5(&ai, &o, &why) == -ENODEV && strstr(why, "DSDT"));
	}
}

static void test_console_spec(void)
{
	struct serial_port p;
	const char *why = NULL;

	CHECK(console_spec_parse("ttyS1", &p, &why) == 1);
	CHECK(!p.mmio && p.base == 0x2F8 && p.baud == 115200);
	CHECK_STR(p.name, "ttyS1");
	CHECK(console_spec_parse("ttyS0,9600n8", &p, &why) == 1 && p.base == 0x3F8 && p.baud == 9600);
	CHECK(console_spec_parse("ttyS3,57600", &p, &why) == 1 && p.base == 0x2E8);
	CHECK(console_spec_parse("none", &p, &why) == 0);
	CHECK(console_spec_parse("uart,mmio32,0xfedc9000,115200", &p, &why) == 1);
	CHECK(p.mmio && p.stride == 4 && p.base == 0xFEDC9000 && p.baud == 115200);
	CHECK(console_spec_parse("uart8250,io,0x3e8", &p, &why) == 1 && !p.mmio && p.base == 0x3E8);
	/* Planted faults. */
	CHECK(console_spec_parse("ttyS4", &p, &why) < 0);
	CHECK(console_spec_parse("ttyS0,fast", &p, &why) < 0);
	CHECK(console_spec_parse("ttyS01", &p, &why) < 0);
	CHECK(console_spec_parse("tty0", &p, &why) < 0);
	CHECK(console_spec_parse("uart,pio,0x3f8", &p, &why) < 0);
	CHECK(console_spec_parse("uart,io,0x10000", &p, &why) < 0);
	CHECK(console_spec_parse("uart,mmio", &p, &why) < 0);
}

/* console= may repeat (each word counts); other options still warn. */
static void test_console_words(void)
{
	static struct cmdline cl;
	const char *v[4];

	cmdline_parse("console=ttyS0 console=ttyS1,9600 hold=5", false, &cl);
	CHECK(cmdline_get_all(&cl, "console", v, 4) == 2 && cl.nwarnings == 0);
	CHECK_STR(v[0], "ttyS0");
	CHECK_STR(v[1], "ttyS1,9600");
	CHECK(cmdline_get_all(&cl, "console", v, 1) == 1);
	cmdline_parse("hold=5 hold=6 end=poweroff", false, &cl);
	CHECK(cl.nwarnings == 1 && cmdline_get_all(&cl, "console", v, 4) == 0);
}

int main(void)
{
	test_console_words();
	phys_test_region(BASE, mem, sizeof(mem));
	test_spcr();
	test_s5();
	test_console_spec();
	return check_report("test_acpi_sys");
}

/* Reads the SPCR and the \_S5_ sleep type. It must not touch a device (the
 * console and the poweroff are done by their owners) nor trust an offset:
 * every read is checked against the table's own length. */
#include "acpi_sys.h"
#include "lib/phys.h"
#include "lib/str.h"

static u16 rd16(const u8 *p) { u16 v; memcpy(&v, p, 2); return v; }
static u32 rd32(const u8 *p) { u32 v; memcpy(&v, p, 4); return v; }
static u64 rd64(const u8 *p) { u64 v; memcpy(&v, p, 8); return v; }

const u8 *acpi_table(const struct acpi_info *ai, const char *sig, u32 *len)
{
	for (int i = 0; i < ai->ntables && i < ACPI_MAX_TABLES; i++) {
		const u8 *h;

		if (memcmp(ai->tables[i].sig, sig, 4))
			continue;
		h = phys_map(ai->tables[i].addr, 36);
		if (!h)
			return NULL;
		*len = rd32(h + 4);
		return phys_map(ai->tables[i].addr, *len);
	}
	return NULL;
}

int acpi_spcr(const struct acpi_info *ai, struct acpi_spcr *out, const char **why)
{
	static const u32 rates[8] = { 0, 0, 0, 9600, 19200, 0, 57600, 115200 };
	u32 len;
	const u8 *t = acpi_table(ai, "SPCR", &len);

	if (!t) {
		*why = "no SPCR table";
		return -ENODEV;
	}
	if (len < SPCR_MIN_LEN) {
		*why = "SPCR too short";
		return -EINVAL;
	}
	out->interface = t[SPCR_INTERFACE];
	if (out->interface != 0 && out->interface != 1 && out->interface != 0x12) {
		*why = "SPCR names a UART that is not 16550-compatible";
		return -EINVAL;
	}
	out->base = (struct acpi_gas){ t[SPCR_BASE], t[SPCR_BASE + 1], t[SPCR_BASE + 2],
				       t[SPCR_BASE + 3], rd64(t + SPCR_BASE + 4) };
	if (out->base.space != ACPI_GAS_IO && out->base.space != ACPI_GAS_MEMORY) {
		*why = "SPCR UART is neither in I/O nor in memory space";
		return -EINVAL;
	}
	if (!out->base.address || (out->base.space == ACPI_GAS_IO && out->base.address > 0xFFF8)) {
		*why = "SPCR UART address is impossible";
		return -EINVAL;
	}
	out->baud = t[SPCR_BAUD] < 8 ? rates[t[SPCR_BAUD]] : 0;
	return 0;
}

/* One AML integer at p (at most end): ZeroOp, OneOp, BytePrefix or
 * WordPrefix. Returns the bytes it took, 0 when it is something else. */
static int aml_int(const u8 *p, const u8 *end, u32 *v)
{
	if (p >= end)
		return 0;
	if (*p == 0x00 || *p == 0x01) {
		*v = *p;
		return 1;
	}
	if (*p == 0x0A && p + 2 <= end) {
		*v = p[1];
		return 2;
	}
	if (*p == 0x0B && p + 3 <= end) {
		*v = rd16(p + 1);
		return 3;
	}
	return 0;
}

/* Decodes the package after "_S5_" at p (PackageOp PkgLength NumElements
 * elements) into SLP_TYPa and b. */
static bool s5_package(const u8 *p, const u8 *end, struct acpi_s5 *out)
{
	u32 a, b = 0;
	int n;

	if (p + 3 > end || *p != 0x12)
		return false;
	p += 2 + (p[1] >> 6);		/* PackageOp, PkgLength lead + follow bytes */
	if (p >= end || *p == 0)	/* NumElements */
		return false;
	n = *p++;
	int k = aml_int(p, end, &a);

	if (!k || a > 7)
		return false;
	if (n >= 2 && ((k = aml_int(p + k, end, &b)) == 0 || b > 7))
		return false;
	out->slp_typa = (u8)a;
	out->slp_typb = (u8)b;
	return true;
}

int acpi_s5(const struct acpi_info *ai, struct acpi_s5 *out, const char **why)
{
	u32 flen, dlen;
	const u8 *f = acpi_table(ai, "FACP", &flen), *d, *h;
	u64 dsdt;

	if (!f || flen < FADT_PM1B_CNT_BLK + 4) {
		*why = "no FADT";
		return -ENODEV;
	}
	out->pm1a_cnt = (u16)rd32(f + FADT_PM1A_CNT_BLK);
	out->pm1b_cnt = (u16)rd32(f + FADT_PM1B_CNT_BLK);
	if (!out->pm1a_cnt || rd32(f + FADT_PM1A_CNT_BLK) > 0xFFFF) {
		*why = "FADT has no PM1a control port";
		return -ENODEV;
	}
	dsdt = flen >= FADT_X_DSDT + 8 && rd64(f + FADT_X_DSDT) ? rd64(f + FADT_X_DSDT)
								 : rd32(f + FADT_DSDT);
	h = dsdt ? phys_map(dsdt, 36) : NULL;
	dlen = h ? rd32(h + 4) : 0;
	if (!h || memcmp(h, "DSDT", 4) || dlen < 36 || dlen > ACPI_MAX_TABLE_LEN ||
	    !(d = phys_map(dsdt, dlen)) || acpi_checksum(d, dlen)) {
		*why = "DSDT missing or invalid";
		return -ENODEV;
	}
	/* NameOp (0x08), optionally the root prefix '\', then "_S5_". */
	for (u32 i = 37; i + 4 < dlen; i++)
		if (!memcmp(d + i, "_S5_", 4) &&
		    (d[i - 1] == 0x08 || (d[i - 1] == '\\' && d[i - 2] == 0x08)) &&
		    s5_package(d + i + 4, d + dlen, out))
			return 0;
	*why = "no \\_S5_ package in the DSDT";
	return -ENODEV;
}

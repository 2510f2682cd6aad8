/* Routes and masks GSIs on the IOAPICs the MADT lists. It must not choose
 * routes itself: drivers and tests ask for each one. */
#include "ioapic.h"
#include "paging.h"
#include "acpi.h"
#include "cpu.h"

struct ioapic {
	u64 base;
	u32 gsi_base;
	u32 entries;
};

static struct ioapic ioapics[ACPI_MAX_IOAPICS];
static int count;
static const struct acpi_info *acpi;

static u32 io_read(const struct ioapic *io, u32 reg)
{
	mmio_write32(io->base + IOAPIC_REGSEL, reg);
	return mmio_read32(io->base + IOAPIC_WINDOW);
}

static void io_write(const struct ioapic *io, u32 reg, u32 v)
{
	mmio_write32(io->base + IOAPIC_REGSEL, reg);
	mmio_write32(io->base + IOAPIC_WINDOW, v);
}

static struct ioapic *find(u32 gsi, u32 *pin)
{
	for (int i = 0; i < count; i++)
		if (gsi >= ioapics[i].gsi_base && gsi - ioapics[i].gsi_base < ioapics[i].entries) {
			*pin = gsi - ioapics[i].gsi_base;
			return &ioapics[i];
		}
	return NULL;
}

int ioapic_init(const struct acpi_info *ai)
{
	acpi = ai;
	count = 0;
	for (int i = 0; i < ai->nioapics; i++) {
		struct ioapic *io = &ioapics[count];
		u32 ver;

		io->base = ai->ioapics[i].address;
		io->gsi_base = ai->ioapics[i].gsi_base;
		/* Above 4 GiB it is mapped on demand (or left out). */
		if (paging_map_mmio(io->base, 0x40))
			continue;
		ver = io_read(io, IOAPIC_REG_VER);
		/* All ones: nothing answers at that address. */
		if (ver == 0xFFFFFFFF)
			continue;
		io->entries = (ver >> 16 & 0xFF) + 1;
		for (u32 pin = 0; pin < io->entries; pin++)
			io_write(io, IOAPIC_REDTBL(pin), REDIR_MASKED);
		count++;
	}
	return count ? count : -ENODEV;
}

int ioapic_route_gsi(u32 gsi, u8 vector, u32 dest, u16 mps_flags)
{
	u32 pin, lo = vector;
	struct ioapic *io = find(gsi, &pin);

	if (!io)
		return -ENODEV;
	/* Physical destination mode names an 8-bit APIC ID (bits 63:56),
	 * 0xFF meaning every CPU. Higher x2APIC IDs need interrupt
	 * remapping (a VT-d IRTE holds a 32-bit destination), which
	 * tickscope does not program. */
	if (dest >= 0xFF)
		return -ERANGE;
	if ((mps_flags & MPS_POLARITY_MASK) == MPS_POLARITY_LOW)
		lo |= REDIR_ACTIVE_LOW;
	if ((mps_flags & MPS_TRIGGER_MASK) == MPS_TRIGGER_LEVEL)
		lo |= REDIR_LEVEL;
	/* Mask while changing, high half (destination) first. */
	io_write(io, IOAPIC_REDTBL(pin), REDIR_MASKED);
	io_write(io, IOAPIC_REDTBL(pin) + 1, dest << 24);
	io_write(io, IOAPIC_REDTBL(pin), lo);
	return (int)gsi;
}

/* An ISA IRQ whose GSI was measured rather than read (ioapic_isa_fixup). */
static int fixed_irq = -1;
static u32 fixed_gsi;

void ioapic_isa_fixup(u8 irq, u32 gsi)
{
	fixed_irq = irq;
	fixed_gsi = gsi;
}

static u32 isa_gsi(u8 irq, u16 *flags)
{
	u32 gsi = acpi_isa_gsi(acpi, irq, flags);

	return fixed_irq == irq ? fixed_gsi : gsi;
}

int ioapic_isa_gsi(u8 irq)
{
	u16 flags;

	return acpi ? (int)isa_gsi(irq, &flags) : -ENODEV;
}

int ioapic_route_isa(u8 irq, u8 vector, u32 dest)
{
	u16 flags;
	u32 gsi;

	if (!acpi)
		return -ENODEV;
	gsi = isa_gsi(irq, &flags);
	return ioapic_route_gsi(gsi, vector, dest, flags);
}

int ioapic_mask_gsi(u32 gsi)
{
	u32 pin;
	struct ioapic *io = find(gsi, &pin);

	if (!io)
		return -ENODEV;
	io_write(io, IOAPIC_REDTBL(pin), REDIR_MASKED);
	return 0;
}

int ioapic_mask_isa(u8 irq)
{
	u16 flags;

	if (!acpi)
		return -ENODEV;
	return ioapic_mask_gsi(isa_gsi(irq, &flags));
}

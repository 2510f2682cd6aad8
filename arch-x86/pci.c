/* PCI configuration mechanism #1 on bus 0. It must not decide what a
 * device is for: drivers find theirs through it and program it. */
#include "pci.h"
#include "cpu.h"

static u32 config_addr(const struct pci_dev *d, u8 off)
{
	return PCI_CONFIG_ENABLE | (u32)d->bus << 16 | (u32)(d->dev & 31) << 11 |
	       (u32)(d->fn & 7) << 8 | (off & 0xFC);
}

bool pci_present(void)
{
	u32 saved = inl(PCI_CONFIG_ADDR), back;

	/* Without a host bridge, port 0xCF8 floats and reads 0xFFFFFFFF
	 * whatever was written. */
	outl(PCI_CONFIG_ADDR, PCI_CONFIG_ENABLE);
	back = inl(PCI_CONFIG_ADDR);
	outl(PCI_CONFIG_ADDR, saved);
	return back == PCI_CONFIG_ENABLE;
}

u32 pci_read32(const struct pci_dev *d, u8 off)
{
	outl(PCI_CONFIG_ADDR, config_addr(d, off));
	return inl(PCI_CONFIG_DATA);
}

void pci_write32(const struct pci_dev *d, u8 off, u32 v)
{
	outl(PCI_CONFIG_ADDR, config_addr(d, off));
	outl(PCI_CONFIG_DATA, v);
}

/*
 * Calls visit for each function on bus 0 (with its header type byte)
 * until it returns true; returns whether one did. Functions above 0 are
 * asked for only where function 0 says it has them: at most
 * PCI_DEVICES * PCI_FUNCTIONS reads of the id.
 */
static bool each_function(bool (*visit)(const struct pci_dev *d, u32 hdr, void *ctx),
			  void *ctx)
{
	for (u8 dev = 0; dev < PCI_DEVICES; dev++) {
		int fns = 1;

		for (u8 fn = 0; fn < fns; fn++) {
			struct pci_dev d = { .bus = 0, .dev = dev, .fn = fn };
			u32 id = pci_read32(&d, PCI_ID), hdr;

			if ((id & 0xFFFF) == PCI_VENDOR_NONE)
				continue;	/* function 0 absent: nor are the others */
			hdr = pci_read32(&d, PCI_HEADER) >> 16;
			if (fn == 0 && (hdr & PCI_HEADER_MULTI))
				fns = PCI_FUNCTIONS;
			d.vendor = (u16)id;
			d.device = (u16)(id >> 16);
			if (visit(&d, hdr, ctx))
				return true;
		}
	}
	return false;
}

struct find_job {
	u16 vendor, device;
	struct pci_dev *out;
};

static bool is_wanted(const struct pci_dev *d, u32 hdr, void *ctx)
{
	struct find_job *j = ctx;

	(void)hdr;
	if (d->vendor != j->vendor || d->device != j->device)
		return false;
	*j->out = *d;
	return true;
}

int pci_find(u16 vendor, u16 device, struct pci_dev *out)
{
	struct find_job j = { vendor, device, out };

	return pci_present() && each_function(is_wanted, &j) ? 0 : -ENODEV;
}

int pci_bar_io(const struct pci_dev *d, int bar, u16 *port)
{
	u32 v;

	if (bar < 0 || bar > 5 || (pci_read32(d, PCI_HEADER) >> 16 & PCI_HEADER_TYPE_MASK) != 0)
		return -EINVAL;
	v = pci_read32(d, (u8)(PCI_BAR0 + 4 * bar));
	if (!(v & PCI_BAR_IO))
		return -EINVAL;
	v &= PCI_BAR_IO_MASK;
	/* Unassigned, or beyond what IN/OUT can address (a 32-bit I/O BAR
	 * may hold more bits than x86 ports have). */
	if (v == 0 || v > 0xFFFF)
		return -ENODEV;
	*port = (u16)v;
	return 0;
}

/* Whether one of d's I/O BARs lies in the 256-byte block at *(u16 *)ctx.
 * Bridges (type 1) have two BARs; their windows are not BARs and a
 * bus-0-only kernel leaves them be. */
static bool holds_block(const struct pci_dev *d, u32 hdr, void *ctx)
{
	u32 base = *(const u16 *)ctx;
	int bars = (hdr & PCI_HEADER_TYPE_MASK) == 0 ? 6 : (hdr & PCI_HEADER_TYPE_MASK) == 1 ? 2 : 0;

	for (int b = 0; b < bars; b++) {
		u32 v = pci_read32(d, (u8)(PCI_BAR0 + 4 * b));

		if ((v & PCI_BAR_IO) && (v & PCI_BAR_IO_MASK & ~(PCI_IO_BLOCK - 1u)) == base)
			return true;
	}
	return false;
}

int pci_assign_io(const struct pci_dev *d, int bar, u16 *port)
{
	u8 off = (u8)(PCI_BAR0 + 4 * bar);
	u32 size, cmd;

	if (bar < 0 || bar > 5 || (pci_read32(d, PCI_HEADER) >> 16 & PCI_HEADER_TYPE_MASK) != 0 ||
	    !(pci_read32(d, off) & PCI_BAR_IO))
		return -EINVAL;
	/* The BAR's size: the address bits that stay 0 when all are
	 * written 1 (the upper 16 may read 0 on a 16-bit decoder). Decoding
	 * is off meanwhile, as Linux does, so the device does not answer
	 * at the all-ones address. */
	cmd = pci_read32(d, PCI_COMMAND) & 0xFFFF;
	pci_write32(d, PCI_COMMAND, cmd & ~(u32)PCI_COMMAND_IO);
	pci_write32(d, off, 0xFFFFFFFFu);
	size = (~(pci_read32(d, off) & PCI_BAR_IO_MASK & 0xFFFF) + 1u) & 0xFFFF;
	pci_write32(d, off, 0);
	pci_write32(d, PCI_COMMAND, cmd);
	if (size == 0 || size > PCI_IO_BLOCK || (size & (size - 1)))
		return -EINVAL;
	for (u32 base = PCI_IO_ASSIGN_LO; base < 0x10000; base += PCI_IO_BLOCK) {
		u16 block = (u16)base;

		if (each_function(holds_block, &block))
			continue;
		pci_write32(d, off, base);
		*port = (u16)base;
		return 0;
	}
	return -ENOSPC;
}

void pci_enable(const struct pci_dev *d, u16 bits)
{
	u32 cmd = pci_read32(d, PCI_COMMAND);

	/* The upper half is the status register, whose bits are cleared by
	 * writing 1: write them back as 0. */
	pci_write32(d, PCI_COMMAND, (cmd & 0xFFFF) | bits);
}

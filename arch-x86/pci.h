/*
 * PCI configuration space through configuration mechanism #1 (ports
 * 0xCF8/0xCFC), bus 0 only: enough to find one device QEMU puts there
 * (a virtio console) and its I/O BAR. Each access is two port accesses,
 * so two exits under a hypervisor: nothing here scans more than bus 0.
 */
#ifndef ARCH_PCI_H
#define ARCH_PCI_H

#include "lib/types.h"

#define PCI_CONFIG_ADDR	0xCF8	/* enable bit 31, bus 23:16, device 15:11, function 10:8, reg 7:2 */
#define  PCI_CONFIG_ENABLE 0x80000000u
#define PCI_CONFIG_DATA	0xCFC
#define PCI_DEVICES	32	/* device numbers on one bus */
#define PCI_FUNCTIONS	8

/* Configuration header (type 0) registers, by byte offset. */
#define PCI_ID		0x00	/* vendor 15:0, device 31:16; vendor 0xFFFF: nothing there */
#define  PCI_VENDOR_NONE 0xFFFF
#define PCI_COMMAND	0x04	/* command 15:0, status 31:16 */
#define  PCI_COMMAND_IO		0x0001
#define  PCI_COMMAND_MEMORY	0x0002
#define  PCI_COMMAND_MASTER	0x0004	/* the device may read and write memory */
#define PCI_CLASS_REV	0x08	/* revision id in 7:0 */
#define PCI_HEADER	0x0C	/* header type in 23:16 */
#define  PCI_HEADER_MULTI	0x80	/* more functions than 0 */
#define  PCI_HEADER_TYPE_MASK	0x7F	/* 0: a device (BARs at 0x10..0x24) */
#define PCI_BAR0	0x10	/* six BARs, 4 bytes apart */
#define  PCI_BAR_IO		0x1	/* bit 0: I/O space, address in 31:2 */
#define  PCI_BAR_IO_MASK	0xFFFFFFFCu
#define PCI_SUBSYSTEM	0x2C	/* subsystem vendor 15:0, subsystem id 31:16 */

struct pci_dev {
	u8 bus, dev, fn;
	u16 vendor, device;
};

/* Whether configuration mechanism #1 answers (the address register reads
 * back what was written, as Linux's pci_check_type1 tests); false on a
 * machine without PCI (isapc, microvm). */
bool pci_present(void);
/* A configuration dword at byte offset off (rounded down to 4). */
u32 pci_read32(const struct pci_dev *d, u8 off);
void pci_write32(const struct pci_dev *d, u8 off, u32 v);
/*
 * The first function on bus 0 with this vendor and device id, at most
 * PCI_DEVICES * PCI_FUNCTIONS reads of the id (functions above 0 only
 * where function 0 says it has them). Returns 0 and fills *out, -ENODEV
 * when there is none or no PCI at all.
 */
int pci_find(u16 vendor, u16 device, struct pci_dev *out);
/*
 * BAR bar's I/O port base. Returns 0, -EINVAL when bar is out of 0..5, the
 * device is no type 0 header or the BAR is a memory BAR, -ENODEV when the
 * firmware left it unassigned (0) or it lies outside the 64 KiB port space.
 */
int pci_bar_io(const struct pci_dev *d, int bar, u16 *port);
/*
 * Gives BAR bar (an I/O BAR the firmware left at 0: qboot assigns none)
 * a 256-byte block in [PCI_IO_ASSIGN_LO, 0x10000) that no I/O BAR of a
 * function on bus 0 holds (the PCI specification caps an I/O BAR at 256
 * bytes, so a block per BAR covers any of them). Returns 0 and the port
 * in *port, -EINVAL as pci_bar_io, -ENOSPC when every block is taken.
 */
#define PCI_IO_ASSIGN_LO	0xC000	/* where SeaBIOS puts PCI I/O too */
#define PCI_IO_BLOCK		256
int pci_assign_io(const struct pci_dev *d, int bar, u16 *port);
/* Sets bits (PCI_COMMAND_*) in the command register. */
void pci_enable(const struct pci_dev *d, u16 bits);

#endif

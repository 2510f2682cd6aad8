/* I/O APICs found in the MADT: routing a GSI to a vector on a CPU. */
#ifndef ARCH_IOAPIC_H
#define ARCH_IOAPIC_H

#include "lib/types.h"

struct acpi_info;

#define IOAPIC_REGSEL		0x00
#define IOAPIC_WINDOW		0x10
#define IOAPIC_REG_ID		0x00
#define IOAPIC_REG_VER		0x01	/* bits 16-23: highest redirection entry */
#define IOAPIC_REDTBL(n)	(0x10 + 2 * (n))
#define   REDIR_ACTIVE_LOW	(1u << 13)
#define   REDIR_LEVEL		(1u << 15)
#define   REDIR_MASKED		(1u << 16)

/* MPS INTI flags, as MADT interrupt source overrides carry them. */
#define MPS_POLARITY_MASK	0x3
#define   MPS_POLARITY_LOW	0x3
#define MPS_TRIGGER_MASK	0xC
#define   MPS_TRIGGER_LEVEL	0xC

/* Takes the IOAPICs of the MADT and masks every entry. Returns the number
 * of IOAPICs, or -ENODEV when there is no MADT or it lists none. */
int ioapic_init(const struct acpi_info *ai);
/*
 * Routes ISA IRQ irq (through the MADT overrides) to vector on the CPU with
 * APIC ID dest, fixed delivery, physical destination, unmasked. Polarity and
 * trigger follow the override, else ISA's active-high edge. Returns the
 * GSI used, -ENODEV when no IOAPIC serves it, -ERANGE when dest is 255
 * or above: the redirection entry's destination is 8 bits (0xFF is
 * broadcast), and reaching higher x2APIC IDs takes interrupt remapping
 * (VT-d IRTEs), not done here, so a device interrupt goes to a CPU with an
 * APIC ID below 255.
 */
int ioapic_route_isa(u8 irq, u8 vector, u32 dest);
/* Routes a GSI with explicit MPS flags (0 = active high, edge). */
int ioapic_route_gsi(u32 gsi, u8 vector, u32 dest, u16 mps_flags);
/* Masks the entry of gsi; returns -ENODEV when no IOAPIC serves it. */
int ioapic_mask_gsi(u32 gsi);
/* Masks the entry serving ISA IRQ irq. */
int ioapic_mask_isa(u8 irq);
/* From now on ISA IRQ irq routes to gsi, whatever the MADT says: for a
 * platform whose MADT misdescribes its wiring, as measured by the caller
 * (drivers/pit.c for IRQ0). Polarity and trigger stay the MADT's. */
void ioapic_isa_fixup(u8 irq, u32 gsi);
/* The GSI ISA IRQ irq routes to, or -ENODEV without a MADT. */
int ioapic_isa_gsi(u8 irq);

#endif

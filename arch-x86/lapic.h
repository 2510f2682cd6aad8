/* Local APIC in xAPIC (MMIO) or x2APIC (MSR) mode. */
#ifndef ARCH_LAPIC_H
#define ARCH_LAPIC_H

#include "lib/types.h"

#define MSR_APIC_BASE		0x1B
#define   APIC_BASE_BSP		(1u << 8)
#define   APIC_BASE_EXTD	(1u << 10)	/* x2APIC mode */
#define   APIC_BASE_EN		(1u << 11)
#define MSR_X2APIC_FIRST	0x800		/* + register offset / 16 */
#define MSR_TSC_DEADLINE	0x6E0

/* Register offsets (xAPIC MMIO; x2APIC MSR = 0x800 + offset / 16). */
#define LAPIC_ID		0x020
#define LAPIC_VERSION		0x030
#define LAPIC_TPR		0x080
#define LAPIC_EOI		0x0B0
#define LAPIC_SVR		0x0F0
#define   SVR_ENABLE		(1u << 8)
#define LAPIC_ESR		0x280
#define LAPIC_ICR_LO		0x300
#define   ICR_SHORTHAND_SELF	(1u << 18)
#define   ICR_SHORTHAND_OTHERS	(3u << 18)	/* all but self */
#define   ICR_PENDING		(1u << 12)	/* xAPIC delivery status */
#define LAPIC_ICR_HI		0x310
#define LAPIC_LVT_TIMER		0x320
#define   LVT_MASKED		(1u << 16)
#define   LVT_TIMER_ONESHOT	(0u << 17)
#define   LVT_TIMER_PERIODIC	(1u << 17)
#define   LVT_TIMER_DEADLINE	(2u << 17)
#define LAPIC_LVT_LINT0		0x350
#define LAPIC_LVT_LINT1		0x360
#define LAPIC_LVT_ERROR		0x370
#define LAPIC_TIMER_INIT	0x380
#define LAPIC_TIMER_CUR		0x390
#define LAPIC_TIMER_DIV		0x3E0
#define LAPIC_SELF_IPI		0x3F0		/* x2APIC only */

enum lapic_mode { LAPIC_OFF, LAPIC_XAPIC, LAPIC_X2APIC };

/*
 * Enables this CPU's LAPIC with the spurious vector, TPR 0 and LINT0/1
 * and the timer masked. want_x2apic selects x2APIC when the CPU offers it.
 * Returns 0, -ENODEV without an APIC (CPUID.1:EDX bit 9), or -EIO when an
 * xAPIC window above 4 GiB cannot be mapped (arch-x86/paging.h).
 */
int lapic_init(bool want_x2apic);
enum lapic_mode lapic_mode(void);
/* Physical base of the xAPIC window (from IA32_APIC_BASE). */
u64 lapic_base(void);
u32 lapic_read(u32 reg);
void lapic_write(u32 reg, u32 v);
/* This CPU's APIC ID (8-bit in xAPIC, 32-bit in x2APIC mode). */
u32 lapic_id(void);
void lapic_eoi(void);
/* Sends an IPI with ICR low word lo (vector, delivery mode, level) to the
 * CPU with APIC ID dest (32-bit in x2APIC mode). Returns 0, -ERANGE when
 * dest does not fit the xAPIC's 8-bit field (0xFF is broadcast), or
 * -ETIMEDOUT when the xAPIC never reported it sent. */
int lapic_send_ipi(u32 dest, u32 lo);
/* Sends a fixed interrupt on vector to this CPU. Returns 0, or
 * -ETIMEDOUT when the xAPIC never reported the IPI as sent. */
int lapic_self_ipi(u8 vector);
/* Sends a fixed interrupt on vector to every CPU but this one. It does
 * not wait for the xAPIC's delivery status: interrupt handlers send it. */
void lapic_ipi_others(u8 vector);

#endif

/* This CPU's local APIC: enabling it (xAPIC or x2APIC), EOI, IDs and IPIs.
 * It must not program the LAPIC timer beyond masking it at enable:
 * drivers/lapic_timer.c owns the timer. */
#include "lapic.h"
#include "cpu.h"
#include "paging.h"
#include "vectors.h"

#define ICR_SPINS 100000

static int wait_icr(void);

static enum lapic_mode mode;
static u64 base;

enum lapic_mode lapic_mode(void)
{
	return mode;
}

u64 lapic_base(void)
{
	return base;
}

u32 lapic_read(u32 reg)
{
	if (mode == LAPIC_X2APIC)
		return (u32)rdmsr(MSR_X2APIC_FIRST + reg / 16);
	return mmio_read32(base + reg);
}

void lapic_write(u32 reg, u32 v)
{
	if (mode == LAPIC_X2APIC)
		wrmsr(MSR_X2APIC_FIRST + reg / 16, v);
	else
		mmio_write32(base + reg, v);
}

u32 lapic_id(void)
{
	u32 id = lapic_read(LAPIC_ID);

	return mode == LAPIC_X2APIC ? id : id >> 24;
}

void lapic_eoi(void)
{
	if (mode != LAPIC_OFF)
		lapic_write(LAPIC_EOI, 0);
}

int lapic_init(bool want_x2apic)
{
	u64 msr;

	if (!(cpuid(1, 0).edx & (1u << 9)))
		return -ENODEV;
	msr = rdmsr(MSR_APIC_BASE);
	base = msr & 0xFFFFFF000ull;
	msr |= APIC_BASE_EN;
	wrmsr(MSR_APIC_BASE, msr);
	/* mode is shared by all CPUs, which the APs enable at once: it is
	 * written once, with its final value, never a passing one. */
	if (want_x2apic && (cpuid(1, 0).ecx & (1u << 21))) {
		/* EN must already be set when EXTD is (SDM 10.12.5). */
		wrmsr(MSR_APIC_BASE, msr | APIC_BASE_EXTD);
		mode = LAPIC_X2APIC;
	} else if (paging_map_mmio(base, 0x1000)) {
		/* An xAPIC page firmware moved above 4 GiB is mapped on
		 * demand (by the BSP, before any AP: theirs then finds it
		 * mapped); one that cannot be reached leaves no LAPIC. */
		return -EIO;
	} else {
		mode = LAPIC_XAPIC;
	}
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
	lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
	lapic_write(LAPIC_LVT_LINT1, LVT_MASKED);
	lapic_write(LAPIC_LVT_ERROR, LVT_MASKED);
	lapic_write(LAPIC_SVR, SVR_ENABLE | VEC_SPURIOUS);
	lapic_write(LAPIC_ESR, 0);	/* writes arm the error register */
	lapic_eoi();			/* drop anything firmware left in service */
	return 0;
}

int lapic_self_ipi(u8 vector)
{
	if (mode == LAPIC_X2APIC) {
		wrmsr(MSR_X2APIC_FIRST + LAPIC_SELF_IPI / 16, vector);
		return 0;
	}
	lapic_write(LAPIC_ICR_HI, 0);
	lapic_write(LAPIC_ICR_LO, ICR_SHORTHAND_SELF | vector);
	return wait_icr();
}

void lapic_ipi_others(u8 vector)
{
	if (mode == LAPIC_X2APIC)
		wrmsr(MSR_X2APIC_FIRST + LAPIC_ICR_LO / 16, ICR_SHORTHAND_OTHERS | vector);
	else
		lapic_write(LAPIC_ICR_LO, ICR_SHORTHAND_OTHERS | vector);
}

static int wait_icr(void)
{
	for (int i = 0; i < ICR_SPINS; i++)
		if (!(lapic_read(LAPIC_ICR_LO) & ICR_PENDING))
			return 0;
	return -ETIMEDOUT;
}

int lapic_send_ipi(u32 dest, u32 lo)
{
	/* x2APIC: one 64-bit ICR write, the destination a full 32-bit
	 * APIC ID in bits 63:32 (SDM 10.12.9). */
	if (mode == LAPIC_X2APIC) {
		wrmsr(MSR_X2APIC_FIRST + LAPIC_ICR_LO / 16, (u64)dest << 32 | lo);
		return 0;
	}
	/* xAPIC: 8 bits in ICR_HI 31:24, and 0xFF means every CPU. */
	if (dest >= 0xFF)
		return -ERANGE;
	lapic_write(LAPIC_ICR_HI, dest << 24);
	lapic_write(LAPIC_ICR_LO, lo);
	return wait_icr();
}

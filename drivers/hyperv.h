/* Hyper-V's clocks as a guest sees them (Hyper-V TLFS, "Partition
 * Reference Counter" and "Partition Reference TSC"): the reference TSC
 * page read as a 10 MHz clocksource, the reference counter MSR it must
 * agree with, and the frequency MSRs. KVM offers them with QEMU's
 * hv-time and hv-frequencies. */
#ifndef DRIVERS_HYPERV_H
#define DRIVERS_HYPERV_H

#include "lib/math.h"

/* CPUID: 0x40000000 "Microsoft Hv", 0x40000001 EAX the interface "Hv#1",
 * 0x40000003 EAX the partition privileges and EDX the feature flags. */
#define HV_CPUID_INTERFACE	0x40000001
#define HV_CPUID_FEATURES	0x40000003
#define HV_INTERFACE_HV1	0x31237648u	/* "Hv#1" */
#define   HV_PRIV_REF_COUNTER	(1u << 1)	/* AccessPartitionReferenceCounter */
#define   HV_PRIV_REF_TSC	(1u << 9)	/* AccessPartitionReferenceTsc */
#define   HV_PRIV_FREQUENCY	(1u << 11)	/* AccessFrequencyRegs */
#define   HV_EDX_FREQ_MSRS	(1u << 8)	/* FrequencyMsrsAvailable */

#define HV_MSR_TIME_REF_COUNT	0x40000020	/* 100 ns units since boot */
#define HV_MSR_REFERENCE_TSC	0x40000021	/* bit 0 enable, 63:12 the page's GPA */
#define   HV_REF_TSC_ENABLE	(1ull << 0)
#define HV_MSR_TSC_FREQUENCY	0x40000022	/* Hz */
#define HV_MSR_APIC_FREQUENCY	0x40000023	/* Hz */

#define HV_REF_HZ		10000000ull	/* reference time counts 100 ns */
#define HV_PAGE_MAX_RETRIES	1000

/* The start of the 4 KiB reference TSC page (the rest is reserved). */
struct hv_tsc_page {
	u32 sequence;		/* 0: the page is not valid, use the MSR */
	u32 reserved;
	u64 scale;		/* 64.64 fixed point, 100 ns units per cycle */
	s64 offset;		/* 100 ns units */
} __attribute__((packed, aligned(8)));

/*
 * Reference time at TSC value tsc by the page's scale and offset, in
 * 100 ns units: ((tsc * scale) >> 64) + offset (TLFS). Pure, for the host
 * tests.
 */
static inline u64 hv_ref_time(u64 scale, s64 offset, u64 tsc)
{
	return (u64)(((u128)tsc * scale) >> 64) + (u64)offset;
}

/* The TSC rate the page's scale implies, in Hz: 10^7 * 2^64 / scale;
 * 0 for a scale of 0, UINT64_MAX when the rate would not fit. */
static inline u64 hv_scale_tsc_hz(u64 scale)
{
	if (!scale)
		return 0;
	if (scale <= HV_REF_HZ)
		return UINT64_MAX;
	return div_128_64(HV_REF_HZ, 0, scale);
}

/*
 * Reads the page as the TLFS says: the sequence, then scale, offset and
 * the TSC (rdtsc(ctx)), then the sequence again; a changed sequence means
 * the hypervisor rewrote the page meanwhile, so try again, at most
 * HV_PAGE_MAX_RETRIES times (*retries counts them). Returns false when
 * the sequence is 0 (the page is invalid now: the caller falls back to
 * the reference counter MSR) or never held still. Shared by the driver
 * and the host tests, which simulate the hypervisor in rdtsc.
 */
static inline bool hv_tsc_page_read(const volatile struct hv_tsc_page *p,
				    u64 (*rdtsc)(void *ctx), void *ctx, u64 *ref, u64 *retries)
{
	for (int i = 0; i < HV_PAGE_MAX_RETRIES; i++) {
		u32 seq = p->sequence;
		u64 scale, tsc;
		s64 offset;

		if (seq == 0)
			return false;
		__asm__ volatile("" ::: "memory");
		scale = p->scale;
		offset = p->offset;
		tsc = rdtsc(ctx);
		__asm__ volatile("" ::: "memory");
		if (p->sequence == seq) {
			*ref = hv_ref_time(scale, offset, tsc);
			return true;
		}
		(*retries)++;
	}
	return false;
}

struct cpu_info;

struct hyperv_info {
	u32 privileges;		/* CPUID 0x40000003 EAX */
	u32 features_edx;	/* CPUID 0x40000003 EDX */
	bool page;		/* the reference TSC page is enabled and valid */
	u64 tsc_freq_hz;	/* HV_MSR_TSC_FREQUENCY, 0 when not offered */
	u64 apic_freq_hz;	/* HV_MSR_APIC_FREQUENCY, 0 when not offered */
	u64 retries;		/* page reads that saw the sequence change */
	u64 fallbacks;		/* reads that found the page invalid and used the MSR */
};

/*
 * Enables the reference TSC page and registers the "hyperv" clocksource
 * (10 MHz, 100 ns units). Returns 0; -ENODEV when the hypervisor offers
 * no Hyper-V interface, no reference counter or no reference TSC page
 * (*why says which); -EIO when the page never becomes valid.
 */
int hyperv_init(const struct cpu_info *ci, const char **why);
const struct hyperv_info *hyperv_info(void);
/* A consistent copy of the page's scale and offset, false when invalid. */
bool hyperv_page(u64 *scale, s64 *offset);
/* The partition reference counter MSR (100 ns units); needs hyperv_init. */
u64 hyperv_ref_counter(void);

#endif

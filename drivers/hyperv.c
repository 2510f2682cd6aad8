/* Hyper-V's reference TSC page as the "hyperv" clocksource (100 ns
 * units), with the reference counter MSR as its fallback and the
 * frequency MSRs for the tests. It must not use a page whose sequence was
 * 0 or changed while it was read. */
#include "hyperv.h"
#include "arch-x86/cpu.h"
#include "arch-x86/cpuinfo.h"
#include "lib/printf.h"
#include "tick/clocksource.h"

/* The page the hypervisor fills, all 4 KiB of it (KVM writes the whole
 * page); the low 4 GiB are identity-mapped, so its address is its
 * guest-physical address. One for all CPUs: the TLFS gives one page per
 * partition. */
static union {
	struct hv_tsc_page p;
	u8 bytes[4096];
} page __attribute__((aligned(4096)));
#define tsc_page page.p
static struct hyperv_info info;
static char reason[96];

static u64 ordered_tsc(void *ctx)
{
	(void)ctx;
	return rdtsc_ordered();
}

static u64 read_ref(struct clocksource *cs)
{
	u64 ref;

	(void)cs;
	if (hv_tsc_page_read(&tsc_page, ordered_tsc, NULL, &ref, &info.retries))
		return ref;
	/* The TLFS: while the sequence is 0 the page is not to be used;
	 * the reference counter MSR gives the same time base. */
	info.fallbacks++;
	return rdmsr(HV_MSR_TIME_REF_COUNT);
}

static struct clocksource hv_cs = {
	.name = "hyperv",
	.rating = 350,
	.read = read_ref,
	.mask = ~0ull,
	.freq_hz = HV_REF_HZ,
	.flags = CS_TSC_BASED,
	.read_method = "reference TSC page + lfence;rdtsc",
};

int hyperv_init(const struct cpu_info *ci, const char **why)
{
	struct cpuid_regs r;
	u64 ref;

	*why = reason;
	if (!ci->hyperv) {
		snprintf_(reason, sizeof(reason), "no Hyper-V interface: leaf 0x40000000 says \"%s\" "
			  "(QEMU: hv-time, KVM only)", ci->hv_sig[0] ? ci->hv_sig : "none");
		return -ENODEV;
	}
	r = cpuid(HV_CPUID_FEATURES, 0);
	info.privileges = r.eax;
	info.features_edx = r.edx;
	if (!(r.eax & HV_PRIV_REF_COUNTER) || !(r.eax & HV_PRIV_REF_TSC)) {
		snprintf_(reason, sizeof(reason), "Hyper-V offers no reference %s (0x40000003 EAX "
			  "0x%x; QEMU: hv-time)", r.eax & HV_PRIV_REF_COUNTER ? "TSC page" : "counter",
			  r.eax);
		return -ENODEV;
	}
	if ((r.eax & HV_PRIV_FREQUENCY) && (r.edx & HV_EDX_FREQ_MSRS)) {
		info.tsc_freq_hz = rdmsr(HV_MSR_TSC_FREQUENCY);
		info.apic_freq_hz = rdmsr(HV_MSR_APIC_FREQUENCY);
	}
	/* Keep the reserved bits 11:1 as read, as the TLFS asks. */
	wrmsr(HV_MSR_REFERENCE_TSC, (rdmsr(HV_MSR_REFERENCE_TSC) & 0xFFEull) |
	      (u64)(uintptr_t)&page | HV_REF_TSC_ENABLE);
	/* KVM fills the page before the vCPU next runs; allow a hypervisor
	 * that takes a little longer (bounded). */
	for (int i = 0; i < HV_PAGE_MAX_RETRIES && !info.page; i++) {
		info.page = hv_tsc_page_read(&tsc_page, ordered_tsc, NULL, &ref, &info.retries);
		cpu_relax();
	}
	if (!info.page) {
		/* Hyper-V may leave the page invalid (sequence 0) when the
		 * TSC cannot be trusted; the reference counter alone is then
		 * what Linux uses, and an MSR read per sample is not what this
		 * clocksource stands for. */
		snprintf_(reason, sizeof(reason), "the reference TSC page stays invalid (sequence %u)",
			  tsc_page.sequence);
		wrmsr(HV_MSR_REFERENCE_TSC, rdmsr(HV_MSR_REFERENCE_TSC) & ~HV_REF_TSC_ENABLE);
		return -EIO;
	}
	return clocksource_register(&hv_cs);
}

const struct hyperv_info *hyperv_info(void)
{
	return &info;
}

bool hyperv_page(u64 *scale, s64 *offset)
{
	volatile struct hv_tsc_page *p = &tsc_page;

	for (int i = 0; i < HV_PAGE_MAX_RETRIES; i++) {
		u32 seq = p->sequence;

		if (seq == 0)
			return false;
		__asm__ volatile("" ::: "memory");
		*scale = p->scale;
		*offset = p->offset;
		__asm__ volatile("" ::: "memory");
		if (p->sequence == seq)
			return true;
		info.retries++;
	}
	return false;
}

u64 hyperv_ref_counter(void)
{
	return rdmsr(HV_MSR_TIME_REF_COUNT);
}

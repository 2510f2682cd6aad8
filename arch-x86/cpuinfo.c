/* Reads CPUID into struct cpu_info once at boot. It must not judge what
 * the leaves claim: drivers and tests decide what a claim is worth. */
#include "cpuinfo.h"
#include "cpu.h"
#include "lib/str.h"

static void regs_str(char *dst, const u32 *regs, int n)
{
	memcpy(dst, regs, 4 * (size_t)n);
	dst[4 * n] = 0;
	/* Keep the report printable whatever the CPU returns. */
	for (int i = 0; i < 4 * n; i++)
		if (dst[i] && (dst[i] < 0x20 || dst[i] > 0x7e))
			dst[i] = '?';
}

/* Standard leaves: vendor, family/model/stepping, feature bits, and the
 * TSC and crystal frequencies of leaves 0x15 and 0x16. */
static void read_standard(struct cpu_info *ci)
{
	struct cpuid_regs r = cpuid(0, 0);
	u32 v[3];

	ci->max_leaf = r.eax;
	v[0] = r.ebx; v[1] = r.edx; v[2] = r.ecx;
	regs_str(ci->vendor, v, 3);

	r = cpuid(1, 0);
	ci->family = r.eax >> 8 & 0xF;
	ci->model = r.eax >> 4 & 0xF;
	ci->stepping = r.eax & 0xF;
	if (ci->family == 0xF)
		ci->family += r.eax >> 20 & 0xFF;
	if (ci->family == 6 || ci->family >= 0xF)
		ci->model += (r.eax >> 16 & 0xF) << 4;
	ci->tsc = r.edx & (1u << 4);
	ci->apic = r.edx & (1u << 9);
	ci->x2apic = r.ecx & (1u << 21);
	ci->tsc_deadline = r.ecx & (1u << 24);
	ci->hypervisor = r.ecx & (1u << 31);

	if (ci->max_leaf >= 6)
		ci->arat = cpuid(6, 0).eax & (1u << 2);
	if (ci->max_leaf >= 7)
		ci->tsc_adjust = cpuid(7, 0).ebx & (1u << 1);
	if (ci->max_leaf >= 0x15) {
		r = cpuid(0x15, 0);
		ci->l15_den = r.eax;
		ci->l15_num = r.ebx;
		ci->l15_crystal_hz = r.ecx;
	}
	if (ci->max_leaf >= 0x16) {
		r = cpuid(0x16, 0);
		ci->l16_base_mhz = r.eax & 0xFFFF;
		ci->l16_max_mhz = r.ebx & 0xFFFF;
		ci->l16_bus_mhz = r.ecx & 0xFFFF;
	}
}

/* Extended leaves: RDTSCP, the brand string, the invariant TSC. */
static void read_extended(struct cpu_info *ci)
{
	struct cpuid_regs r;
	u32 v[12];

	ci->max_ext_leaf = cpuid(0x80000000, 0).eax;
	if (ci->max_ext_leaf >= 0x80000001)
		ci->rdtscp = cpuid(0x80000001, 0).edx & (1u << 27);
	if (ci->max_ext_leaf >= 0x80000004) {
		for (u32 i = 0; i < 3; i++) {
			r = cpuid(0x80000002 + i, 0);
			v[4 * i] = r.eax; v[4 * i + 1] = r.ebx;
			v[4 * i + 2] = r.ecx; v[4 * i + 3] = r.edx;
		}
		regs_str(ci->brand, v, 12);
	}
	if (ci->max_ext_leaf >= 0x80000007)
		ci->invariant_tsc = cpuid(0x80000007, 0).edx & (1u << 8);
}

/* The signature of hypervisor leaf `leaf` as a string. */
static void hv_signature(u32 leaf, char out[13], u32 *max)
{
	struct cpuid_regs r = cpuid(leaf, 0);
	u32 v[3] = { r.ebx, r.ecx, r.edx };

	*max = r.eax;
	regs_str(out, v, 3);
}

/*
 * Hypervisor leaves, only meaningful with the hypervisor bit. KVM's
 * leaves sit at 0x40000000, or at 0x40000100 behind Hyper-V's when the
 * hv-* enlightenments are on (QEMU moves them there; Linux searches
 * 0x40000000..0x40010000 in steps of 0x100 for its signature, of which
 * these two are the places QEMU uses).
 */
static void read_hypervisor(struct cpu_info *ci)
{
	struct cpuid_regs r;
	char sig[13];
	u32 max;

	hv_signature(HV_LEAF_BASE, ci->hv_sig, &ci->hv_max_leaf);
	ci->hyperv = !memcmp(ci->hv_sig, "Microsoft Hv", 12) &&
		     ci->hv_max_leaf >= HV_LEAF_BASE + 1 &&
		     cpuid(HV_LEAF_BASE + 1, 0).eax == 0x31237648u;	/* "Hv#1" */
	if (!memcmp(ci->hv_sig, "KVMKVMKVM", 9)) {
		ci->kvm_base = HV_LEAF_BASE;
	} else {
		hv_signature(HV_LEAF_BASE + 0x100, sig, &max);
		if (!memcmp(sig, "KVMKVMKVM", 9))
			ci->kvm_base = HV_LEAF_BASE + 0x100;
	}
	if (ci->kvm_base)
		ci->kvm_features = cpuid(ci->kvm_base + 1, 0).eax;
	/* The timing leaf belongs to the KVM/VMware leaf range; under
	 * Hyper-V's 0x40000010 means something else. */
	if (!ci->hyperv && ci->hv_max_leaf >= HV_LEAF_TIMING &&
	    ci->hv_max_leaf < HV_LEAF_BASE + 0x100) {
		r = cpuid(HV_LEAF_TIMING, 0);
		ci->hv_tsc_khz = r.eax;
		ci->hv_apic_khz = r.ebx;
	}
}

void cpuinfo_read(struct cpu_info *ci)
{
	memset(ci, 0, sizeof(*ci));
	read_standard(ci);
	read_extended(ci);
	if (ci->hypervisor)
		read_hypervisor(ci);
}

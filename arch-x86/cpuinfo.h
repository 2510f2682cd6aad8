/* What CPUID says about this CPU and the hypervisor under it. */
#ifndef ARCH_CPUINFO_H
#define ARCH_CPUINFO_H

#include "lib/types.h"

#define HV_LEAF_BASE	0x40000000
#define HV_LEAF_TIMING	0x40000010	/* EAX: TSC kHz, EBX: APIC bus kHz */

struct cpu_info {
	char vendor[13];
	char brand[49];
	u32 family, model, stepping;
	u32 max_leaf, max_ext_leaf;
	bool hypervisor;	/* CPUID.1:ECX bit 31 */
	char hv_sig[13];	/* leaf 0x40000000 signature, "" when none */
	u32 hv_max_leaf;
	bool apic, x2apic, tsc, rdtscp, invariant_tsc, tsc_deadline, arat;
	bool tsc_adjust;
	/* Leaf 0x15: TSC/crystal ratio ebx/eax, crystal Hz ecx (0 = unknown). */
	u32 l15_den, l15_num, l15_crystal_hz;
	/* Leaf 0x16: base, max and bus MHz. */
	u32 l16_base_mhz, l16_max_mhz, l16_bus_mhz;
	/* Leaf 0x40000010, when the hypervisor offers it. */
	u32 hv_tsc_khz, hv_apic_khz;
	u32 kvm_features;	/* KVM's features leaf (base + 1) EAX */
	/* Where KVM's signature leaf is, 0 when none: 0x40000000, or
	 * 0x40000100 when the hypervisor shows Hyper-V's leaves first (KVM
	 * with hv-* enlightenments), as Linux's kvm_cpuid_base searches. */
	u32 kvm_base;
	/* Leaf 0x40000001 EAX is "Hv#1": Hyper-V's interface at 0x40000000
	 * (Hyper-V itself, or KVM/QEMU with hv-* enlightenments). */
	bool hyperv;
};

/* Reads every leaf above that exists. */
void cpuinfo_read(struct cpu_info *ci);

#endif

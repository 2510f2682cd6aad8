/*
 * KVM steal time: a 64-byte record per CPU in which the hypervisor counts
 * the nanoseconds this vCPU was ready to run but the host ran something
 * else (KVM adds the vCPU thread's run-queue delay each time it enters
 * the guest). Offered when CPUID 0x40000001 EAX bit 5 is set; the record
 * is version-protected like pvclock (odd while being written).
 */
#ifndef ARCH_KVMSTEAL_H
#define ARCH_KVMSTEAL_H

#include "lib/types.h"

#define MSR_KVM_STEAL_TIME	0x4b564d03
#define   KVM_MSR_ENABLED	1ull		/* bit 0 of the MSR: enable */
#define KVM_FEATURE_STEAL_TIME	(1u << 5)
#define KVM_STEAL_MAX_RETRIES	1000

/* The record (Linux's struct kvm_steal_time); 64-byte aligned. */
struct kvm_steal_time {
	u64 steal;		/* ns, cumulative */
	u32 version;		/* odd while the hypervisor writes */
	u32 flags;
	u8 preempted;		/* set while the vCPU is scheduled out */
	u8 pad8[3];
	u32 pad[11];
} __attribute__((packed, aligned(64)));

struct cpu_info;

struct kvmsteal_info {
	bool offered;		/* the feature bit is set */
	bool enabled;		/* the MSR took our record */
	u64 retries;		/* reads that saw an odd or changed version */
	u64 failures;		/* reads that never settled */
	u64 backwards;		/* reads below the previous one on that CPU */
	char why[96];		/* when not enabled */
};

/* Enables steal time on this (the boot) CPU when KVM offers it. Returns
 * 0, or -ENODEV (why says so). */
int kvmsteal_init(const struct cpu_info *ci);
/* Enables this application processor's own record, when enabled. */
void kvmsteal_cpu_init(void);
const struct kvmsteal_info *kvmsteal_info(void);
/* This CPU's steal time in ns; false when not enabled or the version
 * never settled within KVM_STEAL_MAX_RETRIES. */
bool kvmsteal_read(u64 *ns);

#endif

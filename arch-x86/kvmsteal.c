/* KVM steal time: the per-CPU records, enabled at boot and on each AP,
 * read with the pvclock version protocol. It must not interpret steal
 * time (delay.c and the tests do); it only reads what the host wrote. */
#include "kvmsteal.h"
#include "cpu.h"
#include "cpuinfo.h"
#include "percpu.h"
#include "lib/printf.h"
#include "lib/str.h"

static struct kvm_steal_time records[SMP_MAX_CPUS];
static u64 last[SMP_MAX_CPUS];
static struct kvmsteal_info info;

static void enable_this_cpu(void)
{
	struct kvm_steal_time *st = &records[this_cpu()];

	memset(st, 0, sizeof(*st));
	/* The low 4 GiB are identity-mapped: the address is physical. */
	wrmsr(MSR_KVM_STEAL_TIME, (u64)(uintptr_t)st | KVM_MSR_ENABLED);
}

int kvmsteal_init(const struct cpu_info *ci)
{
	u64 ns;

	if (!ci->kvm_base) {
		snprintf_(info.why, sizeof(info.why), "not running under KVM (hypervisor \"%s\")",
			  ci->hv_sig[0] ? ci->hv_sig : "none");
		return -ENODEV;
	}
	info.offered = ci->kvm_features & KVM_FEATURE_STEAL_TIME;
	if (!info.offered) {
		snprintf_(info.why, sizeof(info.why), "KVM does not offer steal time (CPUID "
			  "0x40000001 EAX 0x%x, bit 5 clear)", ci->kvm_features);
		return -ENODEV;
	}
	enable_this_cpu();
	info.enabled = true;
	/* KVM writes the record on the next entry into the guest; an exit
	 * (CPUID) makes sure there was one before we look. */
	(void)cpuid(0, 0);
	if (!kvmsteal_read(&ns)) {
		snprintf_(info.why, sizeof(info.why), "the steal-time record never settled "
			  "(version %u)", records[this_cpu()].version);
		wrmsr(MSR_KVM_STEAL_TIME, 0);
		info.enabled = false;
		return -ENODEV;
	}
	return 0;
}

void kvmsteal_cpu_init(void)
{
	if (info.enabled)
		enable_this_cpu();
}

const struct kvmsteal_info *kvmsteal_info(void)
{
	return &info;
}

bool kvmsteal_read(u64 *ns)
{
	u32 cpu = this_cpu();
	volatile struct kvm_steal_time *st = &records[cpu];

	if (!info.enabled)
		return false;
	for (int i = 0; i < KVM_STEAL_MAX_RETRIES; i++) {
		u32 v = st->version;
		u64 s;

		__asm__ volatile("" ::: "memory");
		s = st->steal;
		__asm__ volatile("" ::: "memory");
		if (!(v & 1) && st->version == v) {
			if (s < last[cpu])
				info.backwards++;
			last[cpu] = s;
			*ns = s;
			return true;
		}
		info.retries++;
		cpu_relax();
	}
	info.failures++;
	return false;
}

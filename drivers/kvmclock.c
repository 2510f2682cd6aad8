/* kvm-clock: the per-CPU pvclock records as the "kvmclock" clocksource,
 * and the wall-clock record. It must not use a record whose version was
 * odd or changed while it was read. */
#include "kvmclock.h"
#include "arch-x86/cpu.h"
#include "arch-x86/cpuinfo.h"
#include "arch-x86/percpu.h"
#include "lib/math.h"
#include "lib/printf.h"
#include "lib/str.h"
#include "tick/clocksource.h"

/* One record per CPU: each CPU's hypervisor-side clock is its own. */
static struct pvclock_time pvti[SMP_MAX_CPUS];
static u32 sys_msr_used;
static struct pvclock_wall wall;
static struct kvmclock_info info;
static char reason[96];
/* Each CPU's previous record (version 0: none yet) and its steps' sum. */
static struct pvclock_time seen[SMP_MAX_CPUS];
static s64 steps_ns[SMP_MAX_CPUS];
static u64 rebases[SMP_MAX_CPUS];

/*
 * Counts what changed since this CPU's previous read, and the step a
 * change of base or scale made at the TSC value tsc: the time by the new
 * record minus the time by the old, both at tsc. A fresh record from the
 * hypervisor is continuous with the old only as far as its host clock
 * and the old record's scale agree (the master clock re-anchors
 * system_time to the host's clock; the old record ran at the rate its
 * mul/shift state).
 */
static void note_changes(const struct pvclock_time *p, u64 tsc)
{
	u32 cpu = this_cpu();
	struct pvclock_time *old = &seen[cpu];
	s64 step;

	if (old->version == p->version)
		return;
	if (old->version) {
		__atomic_fetch_add(&info.updates, 1, __ATOMIC_RELAXED);
		if (old->tsc_timestamp != p->tsc_timestamp || old->system_time != p->system_time ||
		    old->tsc_to_system_mul != p->tsc_to_system_mul ||
		    old->tsc_shift != p->tsc_shift) {
			step = pvclock_step_ns(old, p, tsc);
			__atomic_fetch_add(&info.rebases, 1, __ATOMIC_RELAXED);
			if (old->tsc_to_system_mul != p->tsc_to_system_mul ||
			    old->tsc_shift != p->tsc_shift)
				__atomic_fetch_add(&info.scale_changes, 1, __ATOMIC_RELAXED);
			steps_ns[cpu] += step;
			rebases[cpu]++;
			info.step_last_ns = step;
			if ((u64)(step < 0 ? -step : step) > info.step_max_ns)
				info.step_max_ns = (u64)(step < 0 ? -step : step);
		}
	}
	*old = *p;
}

/*
 * A consistent copy of this CPU's record and the TSC read with it: the
 * version must be even (no update in progress) and the same before and
 * after, else try again, at most PVCLOCK_MAX_RETRIES times.
 */
static bool consistent(struct pvclock_time *out, u64 *tsc)
{
	volatile struct pvclock_time *p = &pvti[this_cpu()];

	for (int i = 0; i < PVCLOCK_MAX_RETRIES; i++) {
		u32 v = p->version;

		__asm__ volatile("" ::: "memory");
		if (!(v & 1)) {
			*tsc = rdtsc_ordered();
			out->tsc_timestamp = p->tsc_timestamp;
			out->system_time = p->system_time;
			out->tsc_to_system_mul = p->tsc_to_system_mul;
			out->tsc_shift = p->tsc_shift;
			out->flags = p->flags;
			__asm__ volatile("" ::: "memory");
			if (p->version == v) {
				out->version = v;
				note_changes(out, *tsc);
				return true;
			}
		}
		info.retries++;
		cpu_relax();
	}
	info.failures++;
	return false;
}

bool kvmclock_snapshot(struct pvclock_time *out)
{
	u64 tsc;

	return consistent(out, &tsc);
}

static u64 read_ns(struct clocksource *cs)
{
	struct pvclock_time p;
	u64 tsc;

	(void)cs;
	if (!consistent(&p, &tsc))
		return pvti[this_cpu()].system_time;	/* counted in info.failures */
	return pvclock_ns_at(&p, tsc);
}

static u64 read_exact(struct clocksource *cs, struct cs_exact *e)
{
	struct pvclock_time p;
	u64 ns;

	(void)cs;
	e->tsc = rdtsc_ordered();
	ns = consistent(&p, &e->tsc) ? pvclock_ns_at(&p, e->tsc) :
		pvti[this_cpu()].system_time;	/* counted in info.failures */
	e->steps = steps_ns[this_cpu()];
	e->rebases = rebases[this_cpu()];
	return ns;
}

static struct clocksource kvm_cs = {
	.name = "kvmclock",
	.rating = 400,
	.read = read_ns,
	.read_exact = read_exact,
	.mask = ~0ull,
	.freq_hz = 1000000000,
	.flags = CS_TSC_BASED,
	.read_method = "pvclock record + lfence;rdtsc",
};

int kvmclock_init(const struct cpu_info *ci, const char **why)
{
	u32 sys_msr, wall_msr;
	struct pvclock_time snap;

	*why = reason;
	if (!ci->kvm_base) {
		snprintf_(reason, sizeof(reason), "not running under KVM (hypervisor \"%s\")",
			  ci->hv_sig[0] ? ci->hv_sig : "none");
		return -ENODEV;
	}
	if (ci->kvm_features & KVM_FEATURE_CLOCKSOURCE2) {
		info.new_msrs = true;
		sys_msr = MSR_KVM_SYSTEM_TIME_NEW;
		wall_msr = MSR_KVM_WALL_CLOCK_NEW;
	} else if (ci->kvm_features & KVM_FEATURE_CLOCKSOURCE) {
		sys_msr = MSR_KVM_SYSTEM_TIME;
		wall_msr = MSR_KVM_WALL_CLOCK;
	} else {
		snprintf_(reason, sizeof(reason), "KVM offers no clocksource (features 0x%x)",
			  ci->kvm_features);
		return -ENODEV;
	}
	info.stable_feature = ci->kvm_features & KVM_FEATURE_STABLE_BIT;
	wrmsr(wall_msr, (u64)(uintptr_t)&wall);
	wrmsr(sys_msr, (u64)(uintptr_t)&pvti[this_cpu()] | 1);	/* bit 0: enable */
	sys_msr_used = sys_msr;
	if (!kvmclock_snapshot(&snap) || snap.tsc_to_system_mul == 0) {
		snprintf_(reason, sizeof(reason), "pvclock record never settled (version %u, mul %u)",
			  pvti[this_cpu()].version, pvti[this_cpu()].tsc_to_system_mul);
		wrmsr(sys_msr, 0);
		return -EIO;
	}
	return clocksource_register(&kvm_cs);
}

void kvmclock_clear_stopped(void)
{
	/* The guest acknowledges the flag by clearing it (as Linux's
	 * kvm_check_and_clear_guest_paused does). */
	__atomic_and_fetch(&pvti[this_cpu()].flags, (u8)~PVCLOCK_GUEST_STOPPED, __ATOMIC_SEQ_CST);
}

void kvmclock_cpu_init(void)
{
	if (sys_msr_used)
		wrmsr(sys_msr_used, (u64)(uintptr_t)&pvti[this_cpu()] | 1);
}

const struct kvmclock_info *kvmclock_info(void)
{
	return &info;
}

u64 kvmclock_wall_ns(void)
{
	volatile struct pvclock_wall *w = &wall;

	for (int i = 0; i < PVCLOCK_MAX_RETRIES; i++) {
		u32 v = w->version;
		u64 base;

		__asm__ volatile("" ::: "memory");
		base = (u64)w->sec * 1000000000ull + w->nsec;
		__asm__ volatile("" ::: "memory");
		if (!(v & 1) && w->version == v)
			return v ? base + read_ns(NULL) : 0;
	}
	return 0;
}

/* kvm-clock: the pvclock record the hypervisor keeps per CPU, read as a
 * nanosecond clocksource, and its wall-clock record. */
#ifndef DRIVERS_KVMCLOCK_H
#define DRIVERS_KVMCLOCK_H

#include "lib/math.h"

#define MSR_KVM_WALL_CLOCK	0x11
#define MSR_KVM_SYSTEM_TIME	0x12
#define MSR_KVM_WALL_CLOCK_NEW	0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW	0x4b564d01
#define KVM_FEATURE_CLOCKSOURCE	(1u << 0)
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)
#define KVM_FEATURE_STABLE_BIT	(1u << 24)
#define PVCLOCK_TSC_STABLE	(1u << 0)
#define PVCLOCK_GUEST_STOPPED	(1u << 1)
#define PVCLOCK_MAX_RETRIES	1000

/* The 32-byte record (one per CPU). */
struct pvclock_time {
	u32 version;		/* odd while the hypervisor updates it */
	u32 pad0;
	u64 tsc_timestamp;
	u64 system_time;	/* ns at tsc_timestamp */
	u32 tsc_to_system_mul;
	s8 tsc_shift;
	u8 flags;
	u8 pad[2];
} __attribute__((packed, aligned(32)));

struct pvclock_wall {
	u32 version;
	u32 sec;
	u32 nsec;
} __attribute__((packed, aligned(4)));

struct cpu_info;

struct kvmclock_info {
	bool new_msrs;		/* 0x4b564d0x rather than 0x11/0x12 */
	bool stable_feature;	/* KVM_FEATURE_CLOCKSOURCE_STABLE_BIT */
	u64 retries;		/* reads that saw an odd or changed version */
	u64 failures;		/* reads that never got a stable snapshot */
	/* What the hypervisor changed between two of a CPU's reads (KVM
	 * rewrites the record in kvm_guest_time_update, on a master clock
	 * update or after the vCPU moved between host CPUs): */
	u64 updates;		/* the version moved on */
	u64 rebases;		/* of them, tsc_timestamp, system_time, mul or
				 * shift changed */
	u64 scale_changes;	/* of them, mul or shift changed */
	u64 step_max_ns;	/* the largest |step| a re-base made, ns: the
				 * new record's time at the reading's TSC minus
				 * the old record's at the same TSC */
	s64 step_last_ns;	/* the latest step */
};

/*
 * Enables kvm-clock for this CPU and registers the "kvmclock" clocksource
 * (nanoseconds; its read_exact gives the TSC each read converted and the
 * sum of this CPU's re-base steps, in ns). Returns 0, or -ENODEV when the hypervisor does not offer
 * it (*why says why), or -EIO when the record never becomes readable.
 */
int kvmclock_init(const struct cpu_info *ci, const char **why);
const struct kvmclock_info *kvmclock_info(void);
/* Clears GUEST_STOPPED in this CPU's record, acknowledging it. */
void kvmclock_clear_stopped(void);
/* Enables this (application) CPU's own record, when kvm-clock is on. */
void kvmclock_cpu_init(void);
/* A consistent copy of this CPU's record; false when the version never
 * settled within PVCLOCK_MAX_RETRIES. */
bool kvmclock_snapshot(struct pvclock_time *out);

/*
 * kvm-clock's time at TSC value tsc by record p, in ns: system_time +
 * ((tsc - tsc_timestamp) << tsc_shift) * tsc_to_system_mul / 2^32.
 * A TSC behind tsc_timestamp (the delta's top bit set) counts as no time
 * at all, so the clock holds at system_time instead of going back or
 * leaping ahead. Linux's __pvclock_read_cycles takes the delta unsigned
 * and would scale such a delta to a leap of centuries; its timekeeping
 * core then discards it the same way (clocksource_delta: a delta with the
 * top bit set, or beyond max_delta, is 0). Pure, so host tests can drive
 * it at its extremes: a shift the record should never hold (beyond +-63)
 * saturates rather than shifting by more than the width, and so does a
 * sum past 2^64 ns.
 */
static inline u64 pvclock_ns_at(const struct pvclock_time *p, u64 tsc)
{
	u64 delta = tsc - p->tsc_timestamp, ns;
	int shift = p->tsc_shift;

	if (delta >> 63)
		delta = 0;
	if (shift < 0)
		delta = shift <= -64 ? 0 : delta >> -shift;
	else if (delta > (shift >= 64 ? 0 : UINT64_MAX >> shift))
		delta = UINT64_MAX;
	else if (delta)
		delta <<= shift;
	ns = (u64)(((u128)delta * p->tsc_to_system_mul) >> 32);
	return ns > UINT64_MAX - p->system_time ? UINT64_MAX : p->system_time + ns;
}

/* The TSC rate the record's scale implies, in Hz: ns = (delta << shift) *
 * mul / 2^32, so Hz = 1e9 * 2^32 / mul, shifted right by shift. 0 when
 * mul is 0; saturates at UINT64_MAX. */
static inline u64 kvmclock_tsc_hz(const struct pvclock_time *p)
{
	int shift = p->tsc_shift;
	u64 hz;

	if (p->tsc_to_system_mul == 0)
		return 0;
	hz = mul_div_u64(1000000000ull, 1ull << 32, p->tsc_to_system_mul);
	if (shift >= 0)
		return shift >= 64 ? 0 : hz >> shift;
	return -shift >= 64 || hz > UINT64_MAX >> -shift ? UINT64_MAX : hz << -shift;
}
/*
 * The step a re-base makes at TSC value tsc: kvm-clock's time by the new
 * record minus its time by the old one, both at tsc (ns; clamped to
 * +-INT64_MAX). 0 when the hypervisor's new base continues the old clock
 * exactly; otherwise what a reader sees the clock jump by at the change,
 * beyond its rate. Pure, for the host tests.
 */
static inline s64 pvclock_step_ns(const struct pvclock_time *old, const struct pvclock_time *p,
				  u64 tsc)
{
	u64 a = pvclock_ns_at(p, tsc), b = pvclock_ns_at(old, tsc);

	if (a >= b)
		return a - b > (u64)INT64_MAX ? INT64_MAX : (s64)(a - b);
	return b - a > (u64)INT64_MAX ? -INT64_MAX : -(s64)(b - a);
}

/* Wall-clock time now, in Unix ns (boot wall clock + system time);
 * 0 when the wall-clock record is not readable. */
u64 kvmclock_wall_ns(void);

#endif

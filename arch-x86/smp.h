/*
 * Bringing up the application processors listed in the MADT (INIT, SIPI,
 * SIPI), the per-CPU areas (percpu.h) behind GS, and running work on a CPU.
 */
#ifndef ARCH_SMP_H
#define ARCH_SMP_H

#include "percpu.h"
#include "smp_layout.h"

struct acpi_info;

/* Makes GS point at CPU 0's area; first thing at boot. */
void smp_early_init(void);
/*
 * Starts every enabled CPU of the MADT other than this one (at most
 * SMP_MAX_CPUS in all), all at once: INIT to each, one 10 ms wait, then
 * STARTUP to each, and one bounded wait for them all (1 s plus 20 ms per
 * AP), so a CPU that never starts costs the others nothing but that
 * bound. ap_init, when set, runs on each AP before it reports online
 * (drivers' per-CPU set-up, e.g. kvm-clock). tramp_free says the caller
 * found the page at TRAMP_BASE (smp_layout.h) to be free RAM in its
 * memory map; without it no AP is started. lost_apic_id, unless
 * SMP_NONE_LOST, names a CPU to send no IPIs to, as if they were lost (a
 * planted fault: that CPU must then be reported as not started). Returns
 * the number of CPUs online, this one included.
 */
#define SMP_NONE_LOST	0xFFFFFFFFu
int smp_init(const struct acpi_info *ai, bool tramp_free, void (*ap_init)(void),
	     u32 lost_apic_id);
/* CPUs listed enabled in the MADT (1 without one). */
int smp_possible(void);
/* CPUs given an index: this one and every AP a start was tried for (or
 * that could not be sent one, see percpu.not_sent). Per-CPU loops run
 * over 0..smp_count()-1 and skip those not smp_cpu_usable. */
int smp_count(void);
/* CPUs online now, this one included. */
int smp_online(void);
/* Enabled MADT CPUs not started because SMP_MAX_CPUS was reached. */
int smp_left_out(void);
struct percpu *smp_cpu(int i);
/* Milliseconds the whole bring-up took. */
u64 smp_bringup_ms(void);
/* True when CPU i started and has not failed since (see smp_wait). */
bool smp_cpu_usable(int i);
/* Runs fn(arg) on CPU cpu (woken by an IPI); returns -EINVAL when it is
 * not usable, -EBUSY when it has not finished the work given before.
 * smp_wait waits for it to finish, up to timeout_us; false when it did
 * not, and the CPU is then marked failed: later work is not given to a
 * CPU that may still be running (or stuck in) the earlier one. */
int smp_call(int cpu, void (*fn)(void *), void *arg);
bool smp_wait(int cpu, u64 timeout_us);

/* A spinlock (xchg), for the cross-CPU tests. */
typedef volatile u32 spinlock_t;
static inline void spin_lock(spinlock_t *l)
{
	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
		while (*l)
			__asm__ volatile("pause");
}
/* spin_lock, giving up (false) once the TSC passes end: with many vCPUs
 * on few host cores the holder may be descheduled for long, and a loop
 * with a deadline must not wait for it past that deadline. The TSC is
 * read once every 256 polls of the lock: under TCG each RDTSC is a call
 * into QEMU that, as QEMU 7.2's cpu_get_ticks() reads, takes a host
 * spinlock all vCPUs share, so dozens of CPUs reading it in a tight loop
 * hold each other up. */
static inline bool spin_lock_until(spinlock_t *l, u64 end)
{
	u32 n = 0;

	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
		while (*l)
			if (!(++n & 255) && rdtsc_ordered() > end)
				return false;
	return true;
}
static inline void spin_unlock(spinlock_t *l)
{
	__atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

#endif

/*
 * Bringing up the application processors listed in the MADT (INIT, SIPI,
 * SIPI), per-CPU data reached through GS, and running work on a CPU.
 */
#ifndef ARCH_SMP_H
#define ARCH_SMP_H

#include "lib/types.h"

#define SMP_MAX_CPUS	16
#define AP_STACK_SIZE	16384
#define MSR_GS_BASE	0xC0000101

struct acpi_info;
struct boot_mmap_entry;

/* One per CPU; GS points at it. index must stay the first field. */
struct percpu {
	u32 index;
	u32 apic_id;
	volatile bool online;
	volatile bool failed;		/* did not start, or faulted */
	void (*volatile work)(void *arg);
	void *volatile work_arg;
	volatile u64 work_seq, done_seq;
	volatile u64 ticks;		/* test counters, one writer each */
	volatile u64 ipis;
	volatile u64 irq_tsc;
	volatile u64 stolen_periods;	/* periods it did not run (tests) */
	u64 start_us;			/* how long its start-up took */
};

/* This CPU's index (0 = the boot CPU). */
static inline u32 this_cpu(void)
{
	u32 i;

	__asm__ volatile("movl %%gs:0, %0" : "=r"(i));
	return i;
}

/* Makes GS point at CPU 0's area; first thing at boot. */
void smp_early_init(void);
/*
 * Starts every enabled CPU of the MADT other than this one, one at a
 * time, each with a bounded wait. ap_init, when set, runs on each AP
 * before it reports online (drivers' per-CPU set-up, e.g. kvm-clock).
 * mmap (n entries) is checked for the trampoline page. Returns the number
 * of CPUs online, this one included.
 */
int smp_init(const struct acpi_info *ai, const struct boot_mmap_entry *mmap, int n,
	     void (*ap_init)(void));
/* CPUs listed enabled in the MADT (1 without one), and online now. */
int smp_possible(void);
int smp_online(void);
struct percpu *smp_cpu(int i);
/* Milliseconds the whole bring-up took. */
u64 smp_bringup_ms(void);
/* Runs fn(arg) on CPU cpu (woken by an IPI); returns -EINVAL when it is
 * not online. smp_wait waits for it to finish, up to timeout_us; false
 * when it did not. */
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
static inline void spin_unlock(spinlock_t *l)
{
	__atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

#endif

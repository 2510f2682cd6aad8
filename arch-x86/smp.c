/* Starts the application processors (INIT, SIPI, SIPI) and runs work on
 * them. It must not read boot-protocol data or call drivers: the CPU list,
 * the trampoline check and each AP's set-up are passed in. */
#include "smp.h"
#include "smp_layout.h"
#include "acpi.h"
#include "cpu.h"
#include "delay.h"
#include "idt.h"
#include "lapic.h"
#include "lib/str.h"

#define ICR_INIT_ASSERT		0xC500	/* INIT, level, assert */
#define ICR_INIT_DEASSERT	0x8500	/* INIT, level, de-assert */
#define ICR_STARTUP		0x0600
#define INIT_WAIT_US		10000	/* SDM: 10 ms after INIT */
#define SIPI_WAIT_US		200	/* SDM: 200 µs between SIPIs */
#define ONLINE_WAIT_US		100000	/* give up on a CPU after 100 ms */

extern const u8 trampoline_start[], trampoline_end[], tramp_params[];

struct tramp_params {
	u64 cr3, stack, entry, cpu;
};

static struct percpu cpus[SMP_MAX_CPUS];
static u8 stacks[SMP_MAX_CPUS][AP_STACK_SIZE] __attribute__((aligned(16)));
static int possible = 1, online = 1, call_vector = -1;
static u64 bringup_ms;
static void (*ap_hook)(void);

void smp_early_init(void)
{
	wrmsr(MSR_GS_BASE, (u64)(uintptr_t)&cpus[0]);
}

int smp_possible(void) { return possible; }
int smp_online(void) { return online; }
u64 smp_bringup_ms(void) { return bringup_ms; }

struct percpu *smp_cpu(int i)
{
	return i >= 0 && i < SMP_MAX_CPUS ? &cpus[i] : NULL;
}

static void call_irq(struct int_frame *f, void *ctx)
{
	(void)f;
	(void)ctx;	/* waking the CPU from HLT is all it is for */
}

void ap_main(u32 index);

void ap_main(u32 index)
{
	struct percpu *me = &cpus[index];

	idt_load_ap();
	wrmsr(MSR_GS_BASE, (u64)(uintptr_t)me);
	lapic_init(lapic_mode() == LAPIC_X2APIC);
	if (ap_hook)
		ap_hook();
	me->online = true;
	for (;;) {
		irq_disable();
		if (me->work_seq != me->done_seq) {
			irq_enable();
			me->work(me->work_arg);
			me->done_seq = me->work_seq;
			continue;
		}
		/* STI;HLT: the call IPI cannot slip in between. */
		__asm__ volatile("sti; hlt" ::: "memory");
	}
}

static bool start_ap(int index, u32 apic_id)
{
	struct tramp_params *p = (struct tramp_params *)(uintptr_t)
		(TRAMP_BASE + (tramp_params - trampoline_start));
	u64 t0 = rdtsc_ordered(), end;

	cpus[index] = (struct percpu){ .index = (u32)index, .apic_id = apic_id };
	__asm__ volatile("mov %%cr3, %0" : "=r"(p->cr3));	/* the BSP's page tables */
	p->stack = (u64)(uintptr_t)(stacks[index] + AP_STACK_SIZE);
	p->entry = (u64)(uintptr_t)ap_main;
	p->cpu = (u64)index;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	lapic_send_ipi(apic_id, ICR_INIT_ASSERT);
	tsc_delay_us(INIT_WAIT_US);
	lapic_send_ipi(apic_id, ICR_INIT_DEASSERT);
	for (int sipi = 0; sipi < 2 && !cpus[index].online; sipi++) {
		lapic_send_ipi(apic_id, ICR_STARTUP | (TRAMP_BASE >> 12));
		tsc_delay_us(SIPI_WAIT_US);
	}
	end = rdtsc_ordered() + ns_to_tsc(ONLINE_WAIT_US * 1000ull);
	while (!cpus[index].online && rdtsc_ordered() < end)
		cpu_relax();
	cpus[index].start_us = tsc_to_ns(rdtsc_ordered() - t0) / 1000;
	cpus[index].failed = !cpus[index].online;
	return cpus[index].online;
}

int smp_init(const struct acpi_info *ai, bool tramp_free, void (*ap_init)(void))
{
	u32 me = lapic_id();
	u64 t0 = rdtsc_ordered();
	int next = 1;

	cpus[0].apic_id = me;
	cpus[0].online = true;
	possible = acpi_enabled_cpus(ai);
	if (possible > SMP_MAX_CPUS)
		possible = SMP_MAX_CPUS;
	if (!ai->madt || possible < 2 || lapic_mode() == LAPIC_OFF || !tramp_free)
		return online;
	call_vector = irq_alloc(call_irq, NULL);
	if (call_vector < 0)
		return online;
	ap_hook = ap_init;
	memcpy((void *)(uintptr_t)TRAMP_BASE, trampoline_start,
	       (size_t)(trampoline_end - trampoline_start));
	for (int i = 0; i < ai->ncpus && next < SMP_MAX_CPUS; i++) {
		if (!ai->cpus[i].enabled || ai->cpus[i].apic_id == me)
			continue;
		online += start_ap(next++, ai->cpus[i].apic_id);
	}
	bringup_ms = tsc_to_ns(rdtsc_ordered() - t0) / 1000000;
	return online;
}

bool smp_cpu_usable(int i)
{
	struct percpu *c = smp_cpu(i);

	return c && c->online && !c->failed;
}

int smp_call(int cpu, void (*fn)(void *), void *arg)
{
	struct percpu *c = smp_cpu(cpu);

	if (!c || cpu == 0 || !smp_cpu_usable(cpu))
		return -EINVAL;
	if (c->done_seq != c->work_seq)
		return -EBUSY;
	c->work = fn;
	c->work_arg = arg;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	c->work_seq++;
	lapic_send_ipi(c->apic_id, (u32)call_vector);
	return 0;
}

bool smp_wait(int cpu, u64 timeout_us)
{
	struct percpu *c = smp_cpu(cpu);
	u64 end = rdtsc_ordered() + ns_to_tsc(timeout_us * 1000);

	if (!c || !c->online)
		return false;
	while (c->done_seq != c->work_seq)
		if (rdtsc_ordered() > end) {
			c->failed = true;
			return false;
		}
	return true;
}

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
/* Give up on the APs not online this long after the first STARTUP IPI.
 * A CPU starts in well under 100 ms even under a software KVM; the host
 * may keep a vCPU away for a few hundred ms (host.longest_absence_ms), and
 * many vCPUs on few host cores start one after another. */
#define ONLINE_WAIT_US		1000000
#define ONLINE_WAIT_PER_AP_US	20000

extern const u8 trampoline_start[], trampoline_end[], tramp_params[];

/* The trampoline's parameter block (trampoline.S), shared by every AP:
 * each takes the next stack by an atomic increment of next_stack. */
struct tramp_params {
	u64 cr3, stacks, entry;
	u32 next_stack, pad;
};

static struct percpu cpus[SMP_MAX_CPUS];
/* Never read before the AP writes it (NOINIT): zeroing its 8 MiB again
 * cost ~0.3 s of every boot where each REP STOSQ step is emulated. */
static u8 stacks[SMP_MAX_CPUS][AP_STACK_SIZE] NOINIT __attribute__((aligned(16)));
static int possible = 1, count = 1, online = 1, left_out, call_vector = -1;
static u32 planted_lost = SMP_NONE_LOST;
static u64 bringup_ms;
static void (*ap_hook)(void);

void smp_early_init(void)
{
	wrmsr(MSR_GS_BASE, (u64)(uintptr_t)&cpus[0]);
}

int smp_possible(void) { return possible; }
int smp_count(void) { return count; }
int smp_online(void) { return online; }
int smp_left_out(void) { return left_out; }
u64 smp_bringup_ms(void) { return bringup_ms; }

struct percpu *smp_cpu(int i)
{
	return i >= 0 && i < count ? &cpus[i] : NULL;
}

static void call_irq(struct int_frame *f, void *ctx)
{
	(void)f;
	(void)ctx;	/* waking the CPU from HLT is all it is for */
}

/* The AP's index: the one the BSP gave its APIC ID (-1: none). */
static int index_of(u32 apic_id)
{
	for (int i = 1; i < count; i++)
		if (cpus[i].apic_id == apic_id)
			return i;
	return -1;
}

void ap_main(u32 slot);

/* slot is the stack the AP took, not its index: APs start together and
 * take stacks in the order they get there. */
void ap_main(u32 slot)
{
	struct percpu *me;
	int index;

	(void)slot;
	idt_load_ap();
	lapic_init(lapic_mode() == LAPIC_X2APIC);
	index = index_of(lapic_id());
	if (index < 0)		/* not one we started: stay out of the way */
		for (;;)
			__asm__ volatile("cli; hlt");
	me = &cpus[index];
	wrmsr(MSR_GS_BASE, (u64)(uintptr_t)me);
	if (ap_hook)
		ap_hook();
	me->online_tsc = rdtsc_ordered();
	__atomic_store_n(&me->online, true, __ATOMIC_RELEASE);
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

/* Gives every enabled MADT CPU but this one an index; those that cannot
 * be reached get one too, with the reason, so that they are reported. */
static void list_aps(const struct acpi_info *ai, u32 me)
{
	for (int i = 0; i < ai->ncpus; i++) {
		u32 id = ai->cpus[i].apic_id;

		/* A CPU listed twice (a LAPIC and an x2APIC entry) once. */
		if (!ai->cpus[i].enabled || id == me || index_of(id) >= 0)
			continue;
		if (count == SMP_MAX_CPUS) {
			left_out++;
			continue;
		}
		cpus[count] = (struct percpu){ .index = (u32)count, .apic_id = id };
		/* An xAPIC ICR names 8-bit destinations (0xFF is broadcast). */
		if (lapic_mode() != LAPIC_X2APIC && id >= 0xFF)
			cpus[count].not_sent = "APIC ID above 254 needs x2APIC mode";
		count++;
	}
	left_out += ai->cpus_beyond;
}

/* Sends lo to every AP that was sent a start (and is not online yet, for
 * the STARTUP IPIs); notes the TSC of the first STARTUP. */
static void send_all(u32 lo, bool sipi)
{
	for (int i = 1; i < count; i++) {
		if (cpus[i].not_sent || cpus[i].online || cpus[i].apic_id == planted_lost)
			continue;
		if (sipi && !cpus[i].sipi_tsc)
			cpus[i].sipi_tsc = rdtsc_ordered();
		lapic_send_ipi(cpus[i].apic_id, lo);
	}
}

static bool all_online(void)
{
	for (int i = 1; i < count; i++)
		if (!cpus[i].not_sent && !cpus[i].online)
			return false;
	return true;
}

static void start_aps(void)
{
	struct tramp_params *p = (struct tramp_params *)(uintptr_t)
		(TRAMP_BASE + (tramp_params - trampoline_start));
	u64 end;

	__asm__ volatile("mov %%cr3, %0" : "=r"(p->cr3));	/* the BSP's page tables */
	p->stacks = (u64)(uintptr_t)stacks;
	p->entry = (u64)(uintptr_t)ap_main;
	p->next_stack = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	send_all(ICR_INIT_ASSERT, false);
	tsc_delay_us(INIT_WAIT_US);
	send_all(ICR_INIT_DEASSERT, false);
	for (int sipi = 0; sipi < 2; sipi++) {
		send_all(ICR_STARTUP | (TRAMP_BASE >> 12), true);
		tsc_delay_us(SIPI_WAIT_US);
	}
	end = rdtsc_ordered() + ns_to_tsc((ONLINE_WAIT_US + ONLINE_WAIT_PER_AP_US *
					   (u64)(count - 1)) * 1000ull);
	while (!all_online() && rdtsc_ordered() < end)
		cpu_relax();
	for (int i = 1; i < count; i++) {
		struct percpu *c = &cpus[i];

		c->failed = !c->online;
		if (c->online && c->online_tsc > c->sipi_tsc)
			c->start_us = tsc_to_ns(c->online_tsc - c->sipi_tsc) / 1000;
		online += c->online;
	}
}

int smp_init(const struct acpi_info *ai, bool tramp_free, void (*ap_init)(void),
	     u32 lost_apic_id)
{
	u32 me = lapic_id();
	u64 t0 = rdtsc_ordered();

	cpus[0].apic_id = me;
	cpus[0].online = true;
	possible = acpi_enabled_cpus(ai);
	if (!ai->madt || possible < 2 || lapic_mode() == LAPIC_OFF || !tramp_free)
		return online;
	call_vector = irq_alloc(call_irq, NULL);
	if (call_vector < 0)
		return online;
	ap_hook = ap_init;
	planted_lost = lost_apic_id;
	memcpy((void *)(uintptr_t)TRAMP_BASE, trampoline_start,
	       (size_t)(trampoline_end - trampoline_start));
	list_aps(ai, me);
	for (int i = 1; i < count; i++)
		cpus[i].failed = cpus[i].not_sent != NULL;
	start_aps();
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

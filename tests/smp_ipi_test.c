/*
 * Interrupts across CPUs: IPI latency to every other CPU, and an IOAPIC
 * interrupt routed to a chosen CPU. This file continues the smp suite
 * after smp_tick_test.c.
 * A test must not return with an IOAPIC input still routed to it or the
 * PIT still running.
 */
#define TEST_ORDER_BASE 200	/* after smp_tick_test.c's tests */
#include "smp_test.h"
#include "arch-x86/acpi.h"
#include "arch-x86/cpu.h"
#include "arch-x86/delay.h"
#include "arch-x86/idt.h"
#include "arch-x86/ioapic.h"
#include "arch-x86/lapic.h"
#include "arch-x86/smp.h"
#include "drivers/pit.h"
#include "tick/clockevent.h"
#include "sources.h"
#include "lib/stats.h"

#define IPI_SAMPLES		32

static int ipi_vector = -1;

static void ipi_irq(struct int_frame *f, void *ctx)
{
	struct percpu *p = smp_cpu((int)this_cpu());

	(void)f;
	(void)ctx;
	p->irq_tsc = rdtsc();
	p->ipis++;
}

TEST(smp, ipi_latency)
{
	enum verdict v = need_smp();
	static u64 lat[IPI_SAMPLES * SMP_MAX_CPUS], sent[SMP_MAX_CPUS], before[SMP_MAX_CPUS];
	int n = 0, dropped = -1;
	struct summary s;
	char m[24];

	if (v != PASS)
		return v;
	/* The last CPU's first IPI is not sent, as if lost on its way. */
	if (test_planted(env, "ipi_latency", "the first IPI to the last CPU is never sent"))
		dropped = smp_count() - 1;
	if (ipi_vector < 0) {
		ipi_vector = irq_alloc(ipi_irq, NULL);
		if (ipi_vector < 0)
			return error("no free vector for the IPI test");
	}
	/* Every CPU at once: each round sends one IPI to every usable AP,
	 * back to back (each timed from its own send), then waits for them
	 * all. */
	for (int i = 0; i < IPI_SAMPLES; i++) {
		u64 end;

		for (int c = 1; c < smp_count(); c++) {
			if (!smp_cpu_usable(c))
				continue;	/* failed in an earlier test */
			before[c] = smp_cpu(c)->ipis;
			sent[c] = rdtsc_ordered();
			if (i || c != dropped)
				lapic_send_ipi(smp_cpu(c)->apic_id, (u32)ipi_vector);
		}
		/* The targets wait halted: the host may leave a vCPU
		 * unscheduled for a while after the IPI wakes it, so the bound
		 * is the one any work on an AP has. */
		end = rdtsc_ordered() + ns_to_tsc(WORK_TIMEOUT_US * 1000ull);
		for (int c = 1; c < smp_count(); c++) {
			struct percpu *p = smp_cpu(c);

			if (!smp_cpu_usable(c))
				continue;
			while (p->ipis == before[c])
				if (rdtsc_ordered() > end)
					return fail("IPI %d to CPU %d (APIC ID %u) did not arrive in "
						    "%u ms", i, c, p->apic_id,
						    WORK_TIMEOUT_US / 1000);
			/* Across CPUs: meaningful only with synchronised TSCs
			 * (smp.tsc_warp says whether they are). */
			lat[n++] = p->irq_tsc > sent[c] ? tsc_to_ns(p->irq_tsc - sent[c]) : 0;
		}
	}
	summarize(lat, (size_t)n, &s);
	measure_percentiles("ipi.latency_ns", &s, "ns");
	summary_note("IPI p50 %s us", fx(m, sizeof(m), (s64)s.p50, 3));
	return PASS;
}

static volatile int irq_cpu = -1;
static volatile u64 irq_hits;

static void route_irq(struct int_frame *f, void *ctx)
{
	(void)f;
	(void)ctx;
	irq_cpu = (int)this_cpu();
	irq_hits++;
}

TEST(smp, irq_route)
{
	enum verdict v = need_smp();
	int target = smp_count() - 1, vec, gsi;
	u64 end;
	u32 dest;

	if (v != PASS)
		return v;
	/* The last usable AP an IOAPIC entry can name: its destination is
	 * 8 bits (0xFF is broadcast), and higher x2APIC IDs need interrupt
	 * remapping, which tickscope does not program (ioapic.h). */
	while (target > 0 && (!smp_cpu_usable(target) || smp_cpu(target)->apic_id >= 0xFF))
		target--;
	if (target < smp_count() - 1)
		diag("routing to CPU %d: the CPUs after it have failed or have APIC IDs of 255 "
		     "or above, which an IOAPIC entry cannot name without interrupt remapping", target);
	if (!target)
		return skip("no usable AP with an APIC ID below 255 to route to");
	if (!env->nioapics) {
		const char *p = acpi_problem(env->acpi, "APIC");

		return skip("no IOAPIC known (%s)", p ? p : "no ACPI MADT");
	}
	/* IRQ0 comes from the PIT, registered only where channel 0 counts. */
	if (!clockevent_find("pit"))
		return absent_verdict("pit");
	vec = irq_alloc(route_irq, NULL);
	if (vec < 0)
		return error("no free interrupt vector");
	irq_cpu = -1;
	irq_hits = 0;
	dest = smp_cpu(target)->apic_id;
	/* A misrouted entry: the IOAPIC told CPU 0's APIC ID instead. */
	if (test_planted(env, "irq_route", "the IOAPIC entry names CPU 0, not the target"))
		dest = smp_cpu(0)->apic_id;
	gsi = ioapic_route_isa(0, (u8)vec, dest);
	pit_ch0_periodic(PIT_HZ / 1000);
	/* As for IPIs: the target waits halted, and the host may leave its
	 * vCPU unscheduled for a while; the bound is any AP work's. */
	end = rdtsc_ordered() + ns_to_tsc(WORK_TIMEOUT_US * 1000ull);
	while (irq_hits < 10 && rdtsc_ordered() < end)
		cpu_relax();
	pit_ch0_stop();
	ioapic_mask_gsi((u32)gsi);
	irq_clear_handler((u8)vec);
	diag("ISA IRQ0 -> GSI %d -> APIC %u (CPU %d): %lu interrupts, the last on CPU %d", gsi,
	     smp_cpu(target)->apic_id, target, irq_hits, irq_cpu);
	if (!irq_hits)
		return fail("no IRQ0 reached CPU %d in %u ms", target, WORK_TIMEOUT_US / 1000);
	if (irq_cpu != target)
		return fail("IRQ0 routed to CPU %d landed on CPU %d", target, irq_cpu);
	return PASS;
}

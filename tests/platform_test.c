/* What the machine is: CPU identification and the ACPI tables. It must
 * not change any device: it reports what boot found. */
#include "test.h"
#include "arch-x86/acpi.h"
#include "arch-x86/cpu.h"
#include "arch-x86/cpuinfo.h"
#include "arch-x86/delay.h"
#include "arch-x86/lapic.h"
#include "drivers/serial.h"

TEST(platform, cpu)
{
	const struct cpu_info *c = env->cpu;
	enum verdict v = PASS;

	diag("vendor %s family 0x%x model 0x%x stepping %u", c->vendor, c->family, c->model,
	     c->stepping);
	diag("brand \"%s\"", c->brand);
	diag("hypervisor bit %d, signature \"%s\", max leaf 0x%x", c->hypervisor, c->hv_sig,
	     c->hv_max_leaf);
	diag("flags: tsc=%d rdtscp=%d invariant_tsc=%d tsc_deadline=%d x2apic=%d arat=%d "
	     "tsc_adjust=%d", c->tsc, c->rdtscp, c->invariant_tsc, c->tsc_deadline, c->x2apic,
	     c->arat, c->tsc_adjust);
	if (c->max_leaf >= 0x15)
		diag("leaf 0x15: ratio %u/%u, crystal %u Hz", c->l15_num, c->l15_den,
		     c->l15_crystal_hz);
	if (c->max_leaf >= 0x16)
		diag("leaf 0x16: base %u MHz, max %u MHz, bus %u MHz", c->l16_base_mhz,
		     c->l16_max_mhz, c->l16_bus_mhz);
	if (c->hv_max_leaf >= HV_LEAF_TIMING)
		diag("leaf 0x40000010: tsc %u kHz, apic bus %u kHz", c->hv_tsc_khz, c->hv_apic_khz);
	if (c->kvm_features)
		diag("kvm features 0x%x (clocksource2=%d, stable bit=%d)", c->kvm_features,
		     !!(c->kvm_features & (1u << 3)), !!(c->kvm_features & (1u << 24)));
	measure("platform.tsc_ruler_hz", (s64)tsc_hz(), 0, "Hz");
	/* What boot did before the report began, filed with this test (the
	 * first) rather than left in the report's preamble, where a KTAP
	 * parser gives it to whichever test comes first. */
	measure("run.sources_init_ms", (s64)env->sources_init_ms, 0, "ms");
	/* The TSC at kernel entry counts from where the VM's TSC started:
	 * QEMU's TCG starts it at zero when the machine starts running, so
	 * there it is the firmware's and loader's time; where the hypervisor
	 * hands the guest the host's TSC (kvm_pvm) it is not, which the host
	 * tool sees (the TSC at the header is later than the header arrived)
	 * and from which it finds QEMU's own start. */
	measure_x("run.boot.entry_ms", (s64)(tsc_to_ns(env->entry_tsc) / 1000000), 0, "ms",
		  "TSC at kernel entry: the firmware's and loader's time since the VM's TSC "
		  "started");
	measure_x("run.boot.setup_ms", (s64)(tsc_to_ns(env->header_tsc - env->entry_tsc) / 1000000),
		  0, "ms", "kernel entry to the KTAP header, sources_init included");
	measure_x("run.boot.header_ms", (s64)(tsc_to_ns(env->header_tsc) / 1000000), 0, "ms",
		  "TSC at the KTAP header");
	if (IO_COUNTING)
		measure_x("run.reads.setup", (s64)env->header_io, 0, NULL,
			  "device accesses from kernel entry to the KTAP header");
	measure_x("serial.drained", serial_stats()->drained, 0, NULL,
		  "stale input bytes read at probe, at most %d", SERIAL_DRAIN_MAX);
	/* tickscope times everything with the TSC and interrupts with the
	 * APIC: a CPU without them is one we cannot judge. */
	if (!c->tsc)
		v = fail("CPUID.1:EDX.TSC is clear: no time-stamp counter");
	if (!c->apic)
		v = fail("CPUID.1:EDX.APIC is clear: no local APIC");
	if (c->hypervisor && c->hv_sig[0] && c->hv_max_leaf < HV_LEAF_BASE)
		v = fail("hypervisor leaf 0x40000000 reports max leaf 0x%x, below its own base",
			 c->hv_max_leaf);
	return v;
}

TEST(platform, acpi)
{
	const struct acpi_info *a = env->acpi;

	measure("platform.acpi", env->acpi_ok ? 1 : 0, 0, NULL);
	measure("platform.cpus", acpi_enabled_cpus(a), 0, NULL);
	if (!env->acpi_ok)
		return skip("no valid ACPI RSDP/RSDT found (booted with -no-acpi?)");
	/* A multiboot2 loader hands over a copy of the RSDP, not where it
	 * lies: there is no address to print then. */
	if (a->rsdp_addr)
		diag("RSDP revision %u, OEM \"%s\", at 0x%lx, root %s", a->revision, a->oem,
		     a->rsdp_addr, a->xsdt ? "XSDT" : "RSDT");
	else
		diag("RSDP revision %u, OEM \"%s\", the loader's copy, root %s", a->revision,
		     a->oem, a->xsdt ? "XSDT" : "RSDT");
	diag("MADT %s: %d CPU entries, %d IOAPICs, %d overrides, LAPIC at 0x%lx%s",
	     a->madt ? "found" : "missing", a->ncpus, a->nioapics, a->noverrides, a->lapic_addr,
	     a->pcat_compat ? ", dual 8259" : "");
	for (int i = 0; i < a->noverrides; i++)
		diag("override: ISA IRQ %u -> GSI %u flags 0x%x", a->overrides[i].source,
		     a->overrides[i].gsi, a->overrides[i].flags);
	for (int i = 0; i < a->nioapics; i++)
		diag("IOAPIC id %u at 0x%x, GSI base %u", a->ioapics[i].id, a->ioapics[i].address,
		     a->ioapics[i].gsi_base);
	if (a->hpet)
		diag("HPET table: base 0x%lx (space %u), block id 0x%x, number %u, min tick %u",
		     a->hpet_base.address, a->hpet_base.space, a->hpet_block_id, a->hpet_number,
		     a->hpet_min_tick);
	if (a->fadt)
		diag("FADT rev %u: PM timer %s 0x%lx, %d-bit, century reg %u, boot arch 0x%x",
		     a->fadt_revision, a->pm_timer.space == ACPI_GAS_IO ? "port" : "mmio",
		     a->pm_timer.address, a->pm_timer_32bit ? 32 : 24, a->century_reg, a->boot_arch);
	measure("acpi.tables_refused", a->nproblems, 0, NULL);
	if (a->nproblems)
		return fail("%d ACPI structure(s) refused (see the warnings at the top)",
			    a->nproblems);
	if (!a->madt)
		return fail("ACPI present but no valid MADT: interrupt routing unknown");
	if (a->lapic_addr != lapic_base() && lapic_mode() == LAPIC_XAPIC)
		return fail("MADT LAPIC address 0x%lx differs from IA32_APIC_BASE 0x%lx",
			    a->lapic_addr, lapic_base());
	return PASS;
}

/* kmain: bring the machine up, say what it is, run the tests, exit. It
 * must not measure or judge anything itself: it calls the layers below in
 * order and hands the run to the test runner. */
#include "boot/multiboot.h"
#include "boot/sources.h"
#include "arch-x86/acpi.h"
#include "arch-x86/cpu.h"
#include "arch-x86/cpuinfo.h"
#include "arch-x86/delay.h"
#include "arch-x86/idt.h"
#include "arch-x86/ioapic.h"
#include "arch-x86/kvmsteal.h"
#include "arch-x86/lapic.h"
#include "arch-x86/pic.h"
#include "arch-x86/platform.h"
#include "arch-x86/smp.h"
#include "arch-x86/smp_layout.h"
#include "drivers/kvmclock.h"
#include "drivers/serial.h"
#include "drivers/tsc.h"
#include "drivers/vga.h"
#include "lib/cmdline.h"
#include "lib/console.h"
#include "lib/str.h"
#include "tests/test.h"

#define TICKSCOPE_VERSION "0.1"

void kmain(u32 magic, u32 info);

static struct boot_info boot;
static struct cmdline cmd;
static struct acpi_info acpi;
static struct cpu_info cpu;
static u64 boot_sources_ms;	/* probing the clocksources and calibrating */

/* What each application processor sets up for itself. */
static void ap_init(void)
{
	kvmclock_cpu_init();
	kvmsteal_cpu_init();
}

/* The AP trampoline page (TRAMP_BASE, below 1 MiB) must be usable RAM in
 * the loader's memory map; without a map, the conventional layout is. */
static bool tramp_page_free(void)
{
	int n = MIN(boot.mmap_count, BOOT_MMAP_MAX);
	const struct boot_mmap_entry *m = boot.mmap;

	if (n == 0)
		return true;
	for (int i = 0; i < n; i++)
		if (m[i].type == 1 && m[i].base <= TRAMP_BASE &&
		    m[i].base + m[i].len >= TRAMP_BASE + 0x1000)
			return true;
	return false;
}

static enum exit_mode choose_exit(void)
{
	const char *e = cmdline_get(&cmd, "exit");

	if (cmdline_has(&cmd, "reboot"))
		return EXIT_REBOOT;
	if (e && !strcmp(e, "qemu"))
		return EXIT_QEMU;
	if (e && !strcmp(e, "halt"))
		return EXIT_HALT;
	if (e && !strcmp(e, "reboot"))
		return EXIT_REBOOT;
	if (e)
		cmdline_warn(&cmd, "exit= takes qemu, halt or reboot; using the default");
	/* isa-debug-exit only exists under QEMU; on hardware, halt. */
	return cpu.hypervisor ? EXIT_QEMU : EXIT_HALT;
}

static bool want_x2apic(void)
{
	const char *a = cmdline_get(&cmd, "apic");

	if (a && strcmp(a, "auto") && strcmp(a, "xapic") && strcmp(a, "x2apic"))
		cmdline_warn(&cmd, "apic= takes auto, xapic or x2apic; using auto");
	return !a || strcmp(a, "xapic");
}

static void print_help_line(const char *key, const char *help)
{
	kprintf("# option %-10s %s\n", key, help);
}

static void report_platform(struct test_env *env)
{
	static const char *const lapic_modes[] = { "none", "xapic", "x2apic" };

	kprintf("# tickscope %s: boot=multiboot%d loader=\"%s\" firmware=%s console=%s\n",
		TICKSCOPE_VERSION, boot.protocol, boot.loader[0] ? boot.loader : "?",
		boot.efi ? "uefi" : "bios", console_outputs());
	kprintf("# cmdline: \"%s\"\n", boot.cmdline);
	kprintf("# platform: hypervisor=%s cpu=\"%s\" vendor=%s family=0x%x model=0x%x "
		"stepping=%u lapic=%s\n",
		cpu.hv_sig[0] ? cpu.hv_sig : (cpu.hypervisor ? "unknown" : "none"),
		cpu.brand[0] ? cpu.brand : "?", cpu.vendor, cpu.family, cpu.model, cpu.stepping,
		lapic_modes[lapic_mode()]);
	kprintf("# memory: %lu MiB usable in %d map entries\n", boot.mem_kib / 1024, boot.mmap_count);
	kprintf("# tsc ruler: %lu Hz from %s\n", tsc_hz(), tsc_hz_source());
	kprintf("# measure: run.sources_init_ms = %lu ms\n", boot_sources_ms);
	kprintf("# measure: platform.cpus = %d\n", acpi_enabled_cpus(&acpi));
	kprintf("# measure: smp.cpus = %d\n", smp_possible());
	kprintf("# measure: smp.started = %d\n", smp_online());
	kprintf("# measure: platform.acpi = %d\n", env->acpi_ok ? 1 : 0);
	kprintf("# measure: serial.drained = %u (stale input bytes read at probe, at most %d)\n",
		serial_stats()->drained, SERIAL_DRAIN_MAX);
	if (serial_stats()->undrained)
		kprintf("# warning: serial: COM1's receiver never emptied: not used\n");
	for (int i = 0; i < boot.nwarnings; i++)
		kprintf("# warning: boot info: %s\n", boot.warnings[i]);
	for (int i = 0; i < acpi.nproblems; i++)
		kprintf("# warning: acpi: %s\n", acpi.problems[i]);
	for (int i = 0; i < cmd.nwarnings; i++)
		kprintf("# warning: cmdline: %s\n", cmd.warnings[i]);
	if (cmdline_has(&cmd, "help"))
		cmdline_describe(print_help_line);
}

void kmain(u32 magic, u32 info)
{
	struct test_env env = { &boot, &acpi, &cpu, &cmd, false, 0 };
	int ioapics;

	/* Per-CPU data (GS) and the IDT first, so that even an early fault
	 * is reported (or at least halts) instead of triple-faulting. */
	smp_early_init();
	idt_init();
	multiboot_parse(magic, info, &boot);
	cmdline_parse(boot.cmdline, boot.protocol == 1, &cmd);
	serial_init();		/* each registers itself as a console sink */
	if (boot.vga_text)
		vga_init();
	cpuinfo_read(&cpu);
	/* Steal time first: every window watched from here on can use it
	 * (absent under TCG and where KVM does not offer it). */
	(void)kvmsteal_init(&cpu);
	pic_disable();

	env.acpi_ok = acpi_init(boot.rsdp, boot.rsdp_len, &acpi) == 0;
	if (lapic_init(want_x2apic()) != 0)
		cmdline_warn(&cmd, "this CPU has no local APIC: interrupt tests will fail");
	ioapics = env.acpi_ok ? ioapic_init(&acpi) : -ENODEV;
	env.nioapics = ioapics > 0 ? ioapics : 0;
	platform_set_exit(choose_exit(), &acpi);
	if (tsc_early_calibrate(&cpu) != 0)
		cmdline_warn(&cmd, "no PIT or CPUID TSC rate: timeouts assume a 1 GHz TSC");
	boot_sources_ms = rdtsc_ordered();
	sources_init(&cpu, &acpi, env.nioapics, &cmd);
	boot_sources_ms = tsc_to_ns(rdtsc_ordered() - boot_sources_ms) / 1000000;
	if (!cmdline_has(&cmd, "nosmp"))
		smp_init(&acpi, tramp_page_free(), ap_init);

	runner_begin(&env);
	report_platform(&env);
	platform_exit(runner_run(&env));
}

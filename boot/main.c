/* kmain: bring the machine up, say what it is, run the tests, exit. It
 * must not measure or judge anything itself: it calls the layers below in
 * order and hands the run to the test runner. */
#include "boot/consoles.h"
#include "boot/end.h"
#include "boot/fwdump.h"
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
#include "arch-x86/paging.h"
#include "arch-x86/pic.h"
#include "arch-x86/platform.h"
#include "arch-x86/smp.h"
#include "arch-x86/smp_layout.h"
#include "arch-x86/usermode.h"
#include "drivers/kvmclock.h"
#include "drivers/pit.h"
#include "drivers/serial.h"
#include "drivers/tsc.h"
#include "drivers/fb.h"
#include "drivers/fwcfg.h"
#include "drivers/vga.h"
#include "lib/cmdline.h"
#include "lib/console.h"
#include "lib/phys.h"
#include "lib/str.h"
#include "report/dashboard.h"
#include "tests/test.h"

#define TICKSCOPE_VERSION "0.1"

void kmain(u32 magic, u32 info);

static struct boot_info boot;
static struct cmdline cmd;
static struct acpi_info acpi;
static struct cpu_info cpu;
static struct screen screen;	/* screen.name is NULL when there is none */
static const char *early_tsc_why;	/* why there was no early TSC rate, or NULL */

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

/* A virtual machine, though the CPU may not say so: an emulator can leave
 * CPUID's hypervisor bit clear (Bochs's CPU models do, and QEMU's
 * `-cpu ...,-hypervisor`), and the run would then end in a halt nobody
 * sees. Their firmware's ACPI tables carry the OEM ID "BOCHS " (Bochs's
 * BIOS; SeaBIOS and OVMF pass QEMU's), which no PC maker uses. */
static bool virtual_machine(void)
{
	return cpu.hypervisor || (acpi.present && !memcmp(acpi.oem, "BOCHS ", 6));
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
	/* isa-debug-exit only exists under QEMU (Bochs ignores the port); on
	 * hardware, halt. */
	return virtual_machine() ? EXIT_QEMU : EXIT_HALT;
}

static bool want_x2apic(void)
{
	const char *a = cmdline_get(&cmd, "apic");

	if (a && strcmp(a, "auto") && strcmp(a, "xapic") && strcmp(a, "x2apic"))
		cmdline_warn(&cmd, "apic= takes auto, xapic or x2apic; using auto");
	return !a || strcmp(a, "xapic");
}

/* Options the host tool adds through QEMU's fw_cfg (an ISO's command
 * line is fixed in grub.cfg) go after the loader's words. */
/* cmdline_parse's arguments, for offload(): the parse is pure string
 * work, ~5 ms of interpreted ring 0 under kvm_pvm. */
struct parse_job {
	const char *s;
	bool skip_first;
	struct cmdline *cl;
};

static u64 parse_job(void *arg)
{
	const struct parse_job *j = arg;

	cmdline_parse(j->s, j->skip_first, j->cl);
	return 0;
}

static void add_fwcfg_cmdline(void)
{
	size_t len = strlen(boot.cmdline);
	char *dst = boot.cmdline + len;

	if (len + 2 >= sizeof(boot.cmdline))
		return;
	if (len)
		*dst++ = ' ';
	if (fwcfg_cmdline(dst, sizeof(boot.cmdline) - (size_t)(dst - boot.cmdline)) <= 0)
		boot.cmdline[len] = 0;
}

/* The screen: the loader's framebuffer, else VGA text where there is
 * one (BIOS), else none; `noscreen` leaves it to the firmware. */
static void screen_start(void)
{
	const struct boot_fb *b = &boot.fb;
	const char *why = NULL;

	if (cmdline_has(&cmd, "noscreen"))
		return;
	if (b->addr) {
		struct fb_info fb = { b->addr, b->pitch, b->width, b->height, b->bpp,
				      b->red_pos, b->red_size, b->green_pos, b->green_size,
				      b->blue_pos, b->blue_size };

		if (fb_init(&fb, &screen, &why) != 0) {
			screen.name = NULL;
			cmdline_warn(&cmd, why);
		}
	}
	if (!screen.name && boot.vga_text)
		vga_init(&screen);
	dashboard_init(screen.name ? &screen : NULL);
}

/* The dashboard's header: what machine this is. */
static void screen_header(void)
{
	const char *hv = cpu.hv_sig[0] ? cpu.hv_sig : (cpu.hypervisor ? "unknown" :
			 virtual_machine() ? "(firmware BOCHS)" : NULL);

	dashboard_header(0, " tickscope %s | %s", TICKSCOPE_VERSION,
			 cpu.brand[0] ? cpu.brand : cpu.vendor);
	dashboard_header(1, "firmware %s, %s (%s) | %s%s | %d CPU(s), %lu MiB",
			 boot.efi ? "UEFI" : "BIOS", boot.loader[0] ? boot.loader : "?",
			 boot_protocol_name(boot.protocol), hv ? "hypervisor " : "bare metal", hv ? hv : "",
			 acpi_enabled_cpus(&acpi), boot.mem_kib / 1024);
	if (acpi.present) {
		char tables[5 * ACPI_MAX_TABLES + 1] = "";

		for (int i = 0; i < acpi.ntables; i++) {
			str_copy(tables + 5 * i, " ", sizeof(tables) - 5 * (size_t)i);
			str_copy(tables + 5 * i + 1, acpi.tables[i].sig, 5);
		}
		char oem[sizeof(acpi.oem)];
		size_t n = strnlen(acpi.oem, sizeof(oem) - 1);

		/* The OEM id is space-padded. */
		while (n && acpi.oem[n - 1] == ' ')
			n--;
		memcpy(oem, acpi.oem, n);
		oem[n] = 0;
		dashboard_header(2, "ACPI %s, OEM %s, tables:%s", acpi.revision >= 2 ? "2.0+" : "1.0",
				 oem, tables);
	} else {
		dashboard_header(2, "no ACPI tables");
	}
	dashboard_header(3, "screen %s | console %s | tsc %lu kHz (%s)", screen.what,
			 console_outputs(), tsc_hz() / 1000, tsc_hz_source());
}

/* An option's help, on continuation lines past 400 bytes (broken at a
 * space): one print is cut at KPRINTF_MAX, and the plant option's list
 * alone is over 500. */
#define HELP_LINE_MAX	400

static void print_help_line(const char *key, const char *help)
{
	size_t n = strlen(help);

	do {
		size_t take = n;

		if (take > HELP_LINE_MAX) {
			take = HELP_LINE_MAX;
			while (take > HELP_LINE_MAX / 2 && help[take] != ' ')
				take--;
		}
		kprintf("# option %-10s %.*s\n", key, (int)take, help);
		help += take;
		n -= take;
		while (n && *help == ' ') {
			help++;
			n--;
		}
		key = "";
	} while (n);
}

static void report_platform(void)
{
	static const char *const lapic_modes[] = { "none", "xapic", "x2apic" };

	const char *out = console_outputs();
	bool none = !strcmp(out, "none");

	/* console= names every output: the serial sinks and the screen. */
	kprintf("# tickscope %s: boot=%s loader=\"%s\" firmware=%s console=%s%s%s\n",
		TICKSCOPE_VERSION, boot_protocol_name(boot.protocol), boot.loader[0] ? boot.loader : "?",
		boot.efi ? "uefi" : "bios", screen.name && none ? "" : out,
		screen.name && !none ? "+" : "", screen.name ? screen.name : "");
	kprintf("# cmdline: \"%s\"\n", boot.cmdline);
	if (consoles_describe())
		kprintf("# console: %s\n", consoles_describe());
	kprintf("# platform: hypervisor=%s cpu=\"%s\" vendor=%s family=0x%x model=0x%x "
		"stepping=%u lapic=%s\n",
		cpu.hv_sig[0] ? cpu.hv_sig : (cpu.hypervisor ? "unknown" : "none"),
		cpu.brand[0] ? cpu.brand : "?", cpu.vendor, cpu.family, cpu.model, cpu.stepping,
		lapic_modes[lapic_mode()]);
	if (!cpu.hypervisor && virtual_machine())
		kprintf("# platform: no CPUID hypervisor bit, but the ACPI OEM is \"BOCHS \": "
			"an emulator, ended as a virtual machine\n");
	kprintf("# memory: %lu MiB usable in %d map entries\n", boot.mem_kib / 1024, boot.mmap_count);
	serial_pace((u32)cmdline_u64(&cmd, "serial_pace", 0, UART_CLOCK / 16, 0));
	kprintf("# tsc ruler: %lu Hz from %s\n", tsc_hz(), tsc_hz_source());
	if (serial_stats()->undrained)
		kprintf("# warning: serial: a UART's receiver never emptied: that port not used\n");
	for (int i = 0; i < boot.nwarnings; i++)
		kprintf("# warning: boot info: %s\n", boot.warnings[i]);
	for (int i = 0; i < acpi.nproblems; i++)
		kprintf("# warning: acpi: %s\n", acpi.problems[i]);
	if (pit_irq0_note())
		kprintf("# warning: platform: %s\n", pit_irq0_note());
	if (early_tsc_why)
		kprintf("# warning: tsc: no early rate (%s): timeouts assumed a 1 GHz TSC until "
			"the calibration\n", early_tsc_why);
	for (int i = 0; i < cmd.nwarnings; i++)
		kprintf("# warning: cmdline: %s\n", cmd.warnings[i]);
	if (cmdline_has(&cmd, "help"))
		cmdline_describe(print_help_line);
}

/* The first page of usable RAM above 4 GiB in the memory map, 0 when
 * there is none: where the tests try the on-demand mapping. */
static u64 high_ram(const struct boot_info *bi)
{
	for (int i = 0; i < bi->mmap_count; i++) {
		const struct boot_mmap_entry *m = &bi->mmap[i];
		u64 lo = MAX(m->base, 0x100000000ull);

		lo = (lo + 0xFFF) & ~0xFFFull;
		if (m->type == 1 && m->len && m->base + m->len > lo + 0x1000)
			return lo;
	}
	return 0;
}

void kmain(u32 magic, u32 info)
{
	struct test_env env = { .boot = &boot, .acpi = &acpi, .cpu = &cpu, .cmd = &cmd };
	int ioapics;

	env.entry_tsc = rdtsc_ordered();
	/* Per-CPU data (GS) and the IDT first, so that even an early fault
	 * is reported (or at least halts) instead of triple-faulting. */
	smp_early_init();
	idt_init();
	/* Pure computation (formatting, fits) at CPL 3 from here on: where
	 * the hypervisor interprets ring 0 (kvm_pvm), ring 3 runs natively. */
	usermode_init();
	offload_set(usermode_run);
	idt_init_irqs();
	/* Firmware data above 4 GiB is mapped on demand. */
	phys_set_mapper(paging_map_mmio);
	multiboot_parse(magic, info, &boot);
	cpuinfo_read(&cpu);
	env.high_ram = high_ram(&boot);
	if (cpu.hypervisor)
		add_fwcfg_cmdline();
	offload(parse_job, &(struct parse_job){ boot.cmdline, boot.protocol == BOOT_MB1, &cmd });
	screen_start();
	/* Steal time first: every window watched from here on can use it
	 * (absent under TCG and where KVM does not offer it). */
	(void)kvmsteal_init(&cpu);
	pic_disable();

	env.acpi_ok = acpi_init(boot.rsdp, boot.rsdp_len, &acpi) == 0;
	/* The consoles after ACPI: the SPCR may name the serial port. */
	consoles_init(&cmd, &acpi);
	if (cmdline_has(&cmd, "fwdump"))
		fwdump(magic, info, &boot, &acpi);
	if (lapic_init(want_x2apic()) != 0)
		cmdline_warn(&cmd, "this CPU has no local APIC: interrupt tests will fail");
	ioapics = env.acpi_ok ? ioapic_init(&acpi) : -ENODEV;
	env.nioapics = ioapics > 0 ? ioapics : 0;
	platform_set_exit(choose_exit(), &acpi);
	if (tsc_early_calibrate(&cpu, &early_tsc_why) == 0)
		early_tsc_why = NULL;
	env.sources_init_ms = rdtsc_ordered();
	sources_init(&cpu, &acpi, env.nioapics, &cmd);
	env.sources_init_ms = tsc_to_ns(rdtsc_ordered() - env.sources_init_ms) / 1000000;
	if (!cmdline_has(&cmd, "nosmp"))
		smp_init(&acpi, tramp_page_free(), ap_init,
			 (u32)cmdline_u64(&cmd, "smp_lost", 0, 0xFFFFFFFEull, SMP_NONE_LOST));

	end_check_options(&cmd);
	screen_header();
	env.header_io = io_counts[IO_PORT] + io_counts[IO_MMIO] + io_counts[IO_MSR];
	env.header_tsc = rdtsc_ordered();
	runner_begin(&env);
	report_platform();
	end_run((enum exit_code)runner_run(&env), &cmd, &acpi, virtual_machine(),
		screen.name != NULL);
}

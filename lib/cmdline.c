/* Splits and checks the kernel command line against the table of every
 * option the kernel knows. It must not act on an option: the code that
 * owns each one reads it, and a bad word is a warning, never silence. */
#include "cmdline.h"
#include "printf.h"
#include "str.h"

struct option {
	const char *key;
	bool value;	/* takes =value */
	const char *help;
};

/* Options that may be given several times, each word counting (Linux's
 * console= is one); any other repeated option warns. */
static bool repeatable(const char *key)
{
	return !strcmp(key, "console");
}

static const struct option options[] = {
	{ "test", true, "comma-separated globs over suite.test names to run (default: all)" },
	{ "verbose", false, "print extra diagnostics (each test's start, boot details)" },
	{ "reboot", false, "reboot instead of halting at the end (physical machines)" },
	{ "exit", true, "how the run ends: qemu (isa-debug-exit), halt, reboot (default: qemu under a hypervisor, else halt)" },
	{ "watchdog", true, "seconds a single test may run before it is stopped as ERROR (1-600, default 20)" },
	{ "apic", true, "local APIC mode: auto, xapic or x2apic (default auto: x2APIC when the CPU has it)" },
	{ "help", false, "list the command-line options in the report" },
	{ "console", true, "consoles as Linux names them: ttyS0..3[,baud]; hvc0 (a virtio console: virtio-serial-pci with a virtconsole; ttyS0 stands by); several words for several, console=none for none; uart,io|mmio|mmio32,ADDR[,baud] for another UART (default: the ACPI SPCR port, else ttyS0)" },
	{ "vcon_stall", true, "self-test: the virtio console stops notifying the device after N writes, as one that no longer returns buffers (it must then be given up on and the UART carry the rest of the report)" },
	{ "serial_pace", true, "keep the serial output to a wire's rate at this baud (e.g. 115200) where an emulated UART takes it at once: for readers that lose lines in bursts (LAVA's monitors; the LAVA jobs pass it)" },
	{ "noscreen", false, "no dashboard on the screen (leave the firmware's picture)" },
	{ "end", true, "when no isa-debug-exit ends the run: halt (a key press reboots), reboot or poweroff (ACPI S5); default halt, poweroff in a VM with no screen" },
	{ "hold", true, "keep the finished dashboard up to N seconds (1-600) or until a key press, then end" },
	{ "thorough", false, "longer measurements: 1 s calibration window, wrap and RTC-second tests" },
	{ "cal_ms", true, "TSC calibration window in ms (10-10000; default 100, 1000 with thorough)" },
	{ "tsc_hz", true, "the known TSC rate in Hz (the host tool passes the host's rate), for tsc.err_ppm.*" },
	{ "tsc_raw_hz", true, "the host's TSC rate against CLOCK_MONOTONIC_RAW (the host tool passes it with tsc_hz=), the truth for kvm-clock and Hyper-V's clock, which KVM's master clock keeps on that clock" },
	{ "tsc_unc_ppb", true, "1-sigma uncertainty of tsc_hz= in ppb (the host tool passes its helper's; default 0, exact)" },
	{ "monitor", true, "monitor mode for N seconds: cross-check every source, report anomalies as events" },
	{ "nosmp", false, "do not start the other CPUs" },
	{ "tsc_warp", true, "plant a TSC warp of N cycles on CPU 1 (a test that must then fail)" },
	{ "smp_lost", true, "self-test: send no INIT or STARTUP IPI to the CPU with APIC ID N, as if they were lost (smp.bringup must then fail naming it; the others go on)" },
	{ "oneshot_plant", true, "plant one early or one lost event per waiting mode: early or lost (*.oneshot must then fail)" },
	{ "broadcast", false, "per-CPU ticks through a global device and IPIs, as when local timers stop" },
	{ "hpet_legacy", false, "drive the HPET comparator in legacy-replacement mode (takes IRQ0/IRQ8 from PIT/RTC)" },
	{ "hz", true, "tick rate for the tick-layer tests (100-1000, default 250)" },
	{ "clockevent", true, "device the tick layer uses: pit, lapic, tscdeadline, hpet (default: best rated)" },
	{ "clocksource", true, "counter timekeeping uses: tsc, kvmclock, hpet, pm, pit (default: best rated)" },
	{ "pmtimer", true, "PM timer reads: plain or verified (three ordered reads, for buggy chipsets)" },
	{ "fwdump", false, "hexdump the multiboot info and ACPI tables (seeds for tests/fuzz)" },
	{ "periodic_ms", true, "window of the periodic-rate tests in ms (50-10000; default 200, 1000 with thorough)" },
	{ "plant_rate", true, "self-test: stretch periodic timestamps by N ppm (every rate check must then fail)" },
	{ "plant_wall_us", true, "self-test: seed the tick's wall time N us ahead (tick.walltime must then fail)" },
	{ "plant", true, "self-test: comma-separated faults to plant, each making its check fail: read_cost (every source read 200 us slow), monotonic (one step back), timers (every software timer 500 ms late), self_ipi (one self-IPI sent while interrupts are off), idle (a timer wakes the idle loop every ms), switch (one jiffy too many across the periodic-to-oneshot switch), pit_ioapic, hpet_info, pm_info, pit_wrap, pm_wrap, hpet_wrap, kvmclock_flags, drift, smp_kvmclock, percpu_ticks, relay, relay_half, ipi_latency, irq_route, concurrent (the periodic devices' shared windows 1000 ppm slow), periodic_lost (every 8th periodic interrupt dropped), periodic_lost_once (in each device's first window only), oneshot_concurrent (the oneshot windows' shared rounds 200 us late), rtc_slow (the RTC's flag at a 16th of its calibration rate), rtc_dead (the flag never raised), rtc_off (its calibration sightings 0.8 % stretched), rtc_off_once (in the first window only) (README: What each check is held to)" },
};

/* The numeric options and the values their users accept. */
static const struct range {
	const char *key;
	u64 min, max;
} ranges[] = {
	{ "watchdog", 1, 600 },
	{ "cal_ms", 10, 10000 },
	{ "tsc_hz", 1000000, 100000000000ull },
	{ "tsc_raw_hz", 1000000, 100000000000ull },
	{ "monitor", 1, 86400 },
	{ "tsc_warp", 1, 1ull << 40 },
	{ "smp_lost", 0, 0xFFFFFFFEull },
	{ "hz", 100, 1000 },
	{ "tsc_unc_ppb", 0, 100000000 },
	{ "periodic_ms", 50, 10000 },
	{ "vcon_stall", 1, 1000000 },
	{ "plant_rate", 1, 1000000 },
	{ "plant_wall_us", 1, 10000000 },
};

void cmdline_warn(struct cmdline *cl, const char *msg)
{
	/* When the list is full, its last line says that more were dropped. */
	if (cl->nwarnings == CMDLINE_MAX_WARNINGS)
		msg = "more problems on the command line than are listed here";
	else
		cl->nwarnings++;
	str_copy(cl->warnings[cl->nwarnings - 1], msg, sizeof(cl->warnings[0]));
}

static const struct option *find_option(const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(options); i++)
		if (!strcmp(options[i].key, key))
			return &options[i];
	return NULL;
}

/* True when the word w[0..n) is `key` or `key=...` for a known key. */
static bool names_option(const char *w, size_t n)
{
	char key[24];
	size_t klen = 0;

	while (klen < n && w[klen] != '=')
		klen++;
	if (klen == 0 || klen >= sizeof(key))
		return false;
	memcpy(key, w, klen);
	key[klen] = 0;
	return find_option(key) != NULL;
}

static struct cmdline_word *find_word(const struct cmdline *cl, const char *key)
{
	/* The last occurrence wins. */
	for (int i = cl->nwords - 1; i >= 0; i--)
		if (!strcmp(cl->words[i].key, key))
			return (struct cmdline_word *)&cl->words[i];
	return NULL;
}

/*
 * A numeric option is checked as it is parsed, not when its user reads
 * it: some are read only by tests, after the report's warnings were
 * printed, and would otherwise be ignored in silence. A bad value then
 * reads as absent, so each user falls back to its default.
 */
static bool number_ok(struct cmdline *cl, const char *key, const char *v)
{
	const struct range *r = NULL;
	char msg[112];
	u64 n;

	for (size_t i = 0; i < ARRAY_SIZE(ranges); i++)
		if (!strcmp(ranges[i].key, key))
			r = &ranges[i];
	if (!r)
		return true;
	if (!parse_u64(v, strlen(v), &n))
		snprintf_(msg, sizeof(msg), "%s=%.40s is not a number; the default is used", key, v);
	else if (n < r->min || n > r->max)
		snprintf_(msg, sizeof(msg), "%s=%lu is outside %lu..%lu; the default is used",
			  key, n, r->min, r->max);
	else
		return true;
	cmdline_warn(cl, msg);
	return false;
}

/* One word of the command line checked against the option table and its
 * range; 61 lines, one check after another, each with the warning it gives. */
static void add_word(struct cmdline *cl, const char *w, size_t n)
{
	const char *eq = NULL;
	size_t klen;
	char key[24], msg[112];
	const struct option *opt;
	struct cmdline_word *cw;

	for (size_t i = 0; i < n; i++)
		if (w[i] == '=') {
			eq = w + i;
			break;
		}
	klen = eq ? (size_t)(eq - w) : n;
	if (klen == 0 || klen >= sizeof(key)) {
		snprintf_(msg, sizeof(msg), "malformed option '%.*s' ignored", (int)MIN(n, 60u), w);
		cmdline_warn(cl, msg);
		return;
	}
	memcpy(key, w, klen);
	key[klen] = 0;
	opt = find_option(key);
	if (!opt) {
		snprintf_(msg, sizeof(msg), "unknown option '%s' ignored", key);
		cmdline_warn(cl, msg);
		return;
	}
	if (opt->value != (eq != NULL)) {
		snprintf_(msg, sizeof(msg), opt->value ? "option '%s' needs a value (%s=...), ignored"
						       : "option '%s' takes no value, ignored", key, key);
		cmdline_warn(cl, msg);
		return;
	}
	/* test= would select no test at all: an empty run, no word why. */
	if (eq && eq + 1 == w + n) {
		snprintf_(msg, sizeof(msg), "option '%s=' has an empty value, ignored", key);
		cmdline_warn(cl, msg);
		return;
	}
	if (eq && (size_t)(w + n - eq - 1) >= sizeof(cw->value)) {
		snprintf_(msg, sizeof(msg), "value of '%s' is too long, ignored", key);
		cmdline_warn(cl, msg);
		return;
	}
	if (find_word(cl, key) && !repeatable(key)) {
		snprintf_(msg, sizeof(msg), "option '%s' given twice; the last one is used", key);
		cmdline_warn(cl, msg);
	}
	if (cl->nwords == CMDLINE_MAX_WORDS) {
		cmdline_warn(cl, "more than 32 options; the rest are ignored");
		return;
	}
	cw = &cl->words[cl->nwords++];
	memcpy(cw->key, key, klen + 1);
	cw->has_value = eq != NULL;
	if (eq) {
		size_t vlen = (size_t)(w + n - eq - 1);

		memcpy(cw->value, eq + 1, vlen);
		cw->value[vlen] = 0;
		cw->bad = !number_ok(cl, key, cw->value);
	}
}

void cmdline_parse(const char *s, bool skip_first, struct cmdline *cl)
{
	memset(cl, 0, sizeof(*cl));
	while (*s) {
		const char *w;
		size_t n = 0;

		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		w = s;
		while (s[n] && s[n] != ' ' && s[n] != '\t')
			n++;
		s += n;
		if (skip_first) {
			skip_first = false;
			/* QEMU puts the kernel's path first, GRUB's `multiboot`
			 * does not: a word that names an option is no path. */
			if (!names_option(w, n))
				continue;
		}
		add_word(cl, w, n);
	}
}

const char *cmdline_get(const struct cmdline *cl, const char *key)
{
	struct cmdline_word *w = find_word(cl, key);

	return w && w->has_value && !w->bad ? w->value : NULL;
}

int cmdline_get_all(const struct cmdline *cl, const char *key, const char **out, int max)
{
	int n = 0;

	for (int i = 0; i < cl->nwords && n < max; i++)
		if (!strcmp(cl->words[i].key, key) && cl->words[i].has_value)
			out[n++] = cl->words[i].value;
	return n;
}

bool cmdline_has(const struct cmdline *cl, const char *key)
{
	return find_word(cl, key) != NULL;
}

bool cmdline_list_has(const struct cmdline *cl, const char *key, const char *item)
{
	const char *p = cmdline_get(cl, key);
	size_t n = strlen(item);

	while (p && *p) {
		if (!strncmp(p, item, n) && (p[n] == ',' || !p[n]))
			return true;
		while (*p && *p != ',')
			p++;
		if (*p)
			p++;
	}
	return false;
}

u64 cmdline_u64(struct cmdline *cl, const char *key, u64 min, u64 max, u64 def)
{
	const char *v = cmdline_get(cl, key);
	char msg[112];
	u64 n;

	if (!v)
		return def;
	if (!parse_u64(v, strlen(v), &n)) {
		snprintf_(msg, sizeof(msg), "%s=%.40s is not a number; using %lu", key, v, def);
		cmdline_warn(cl, msg);
		return def;
	}
	if (n < min || n > max) {
		snprintf_(msg, sizeof(msg), "%s=%lu is outside %lu..%lu; using %lu", key, n, min, max, def);
		cmdline_warn(cl, msg);
		return def;
	}
	return n;
}

void cmdline_describe(void (*line)(const char *key, const char *help))
{
	for (size_t i = 0; i < ARRAY_SIZE(options); i++)
		line(options[i].key, options[i].help);
}

/* Ends a run as end= and hold= say. It must not judge the run (the code is
 * given) and every wait is bounded except the final halt a person ends
 * with a key. */
#include "end.h"
#include "arch-x86/acpi_sys.h"
#include "arch-x86/cpu.h"
#include "arch-x86/delay.h"
#include "drivers/kbd.h"
#include "lib/console.h"
#include "lib/str.h"
#include "report/dashboard.h"

enum end_mode { END_HALT, END_REBOOT, END_POWEROFF };

static enum end_mode choose_end(struct cmdline *cmd, bool vm, bool screen)
{
	const char *e = cmdline_get(cmd, "end"), *x = cmdline_get(cmd, "exit");

	/* exit=halt|reboot (and the old `reboot` flag) say it too. */
	if (!e && x && (!strcmp(x, "halt") || !strcmp(x, "reboot")))
		e = x;

	if (e && !strcmp(e, "halt"))
		return END_HALT;
	if ((e && !strcmp(e, "reboot")) || cmdline_has(cmd, "reboot"))
		return END_REBOOT;
	if (e && !strcmp(e, "poweroff"))
		return END_POWEROFF;
	/* Someone may be looking at a screen: keep the summary up. A VM with
	 * neither a screen nor isa-debug-exit is automation: end it. */
	return vm && !screen ? END_POWEROFF : END_HALT;
}

void end_check_options(struct cmdline *cmd)
{
	const char *e = cmdline_get(cmd, "end");

	if (e && strcmp(e, "halt") && strcmp(e, "reboot") && strcmp(e, "poweroff"))
		cmdline_warn(cmd, "end= takes halt, reboot or poweroff; using the default");
	(void)cmdline_u64(cmd, "hold", 1, 600, 0);	/* warns about a bad value */
}

/* Waits up to ms milliseconds (forever when 0) for a key press; returns
 * whether one came. Polls every millisecond. */
static bool wait_key(u64 ms, bool kbd)
{
	for (u64 i = 0; !ms || i < ms; i++) {
		if (kbd && kbd_pressed())
			return true;
		tsc_delay_us(1000);
	}
	return false;
}

static void poweroff(const struct acpi_info *acpi)
{
	struct acpi_s5 s5;
	const char *why = "";

	if (acpi_s5(acpi, &s5, &why) == 0) {
		dashboard_status("powering off");
		platform_poweroff(s5.pm1a_cnt, s5.pm1b_cnt, s5.slp_typa, s5.slp_typb);
		tsc_delay_us(100000);
		why = "the S5 write did not turn the machine off";
	}
	kprintf("# tickscope: poweroff failed: %s; halting\n", why);
}

void end_run(enum exit_code code, struct cmdline *cmd, const struct acpi_info *acpi,
	     bool vm, bool screen)
{
	u64 hold = cmdline_get(cmd, "hold") ? cmdline_u64(cmd, "hold", 1, 600, 0) : 0;
	enum end_mode mode = choose_end(cmd, vm, screen);
	bool kbd;

	irq_disable();
	kbd = kbd_init();
	if (hold) {
		/* The screen is final before serial says so: a host takes
		 * its picture at the "# hold:" line. */
		dashboard_status(" finished (exit code %d): the screen stays %lu s%s", code, hold,
				 kbd ? " or until a key press" : "");
		kprintf("# hold: the screen stays %lu s or until a key press\n", hold);
		wait_key(hold * 1000, kbd);
	}
	platform_debug_exit(code);
	/* Still here: no isa-debug-exit (hardware, or exit=halt|reboot). */
	if (mode == END_POWEROFF) {
		kprintf("# tickscope: powering off (exit code %d)\n", code);
		poweroff(acpi);
	}
	if (mode == END_REBOOT) {
		dashboard_status(" finished (exit code %d): rebooting", code);
		platform_reboot();
	}
	kprintf("# tickscope: halted (exit code %d)%s\n", code,
		kbd ? "; a key press reboots" : "");
	dashboard_status(" finished (exit code %d)%s", code,
			 kbd ? ": press a key to reboot" : ": halted");
	if (kbd && wait_key(0, kbd)) {
		dashboard_status(" rebooting");
		platform_reboot();
	}
	for (;;)
		halt();
}

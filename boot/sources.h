/* Starting the time sources at boot: every clocksource driver, then the
 * TSC calibration against all of them. */
#ifndef BOOT_SOURCES_H
#define BOOT_SOURCES_H

struct cpu_info;
struct acpi_info;
struct cmdline;

/* Probes TSC, HPET, PM timer, PIT, RTC and kvm-clock (recording why any
 * is absent), calibrates the TSC over cal_ms (command line) and sets the
 * kernel's ruler to the result; then starts the clockevents (LAPIC timer,
 * TSC deadline, PIT, HPET comparator, RTC periodic interrupt), routing
 * their interrupts through the nioapics IOAPICs. */
void sources_init(const struct cpu_info *ci, const struct acpi_info *ai, int nioapics,
		  struct cmdline *cmd);

#endif

/* Starting the time sources at boot: every clocksource driver, then the
 * TSC calibration against all of them. */
#ifndef BOOT_SOURCES_H
#define BOOT_SOURCES_H

struct cpu_info;
struct acpi_info;
struct cmdline;

/* Probes TSC, HPET, PM timer, PIT, RTC and kvm-clock (recording why any
 * is absent), then calibrates the TSC over cal_ms (command line) and sets
 * the kernel's ruler to the result. */
void sources_init(const struct cpu_info *ci, const struct acpi_info *ai, struct cmdline *cmd);

#endif

/*
 * What the host did while the other suites measured: how long each vCPU
 * was away from the windows it watched, how long QEMU's main loop was,
 * and what the hypervisor itself counts as steal time. Its verdicts are
 * about the host, never about a device, and say so. It runs last and only
 * reads the totals the measurements left (arch-x86/delay.h, absence.h).
 */
#include "test.h"
#include "absence.h"
#include "arch-x86/delay.h"
#include "arch-x86/kvmsteal.h"
#include "arch-x86/smp.h"

#define ABOUT	"this verdict is about the host, not a device"
/*
 * One absence longer than this is a host finding: Linux's hrtimer
 * interrupt, finding itself that late, backs off by at most 100 ms
 * (kernel/time/hrtimer.c, hrtimer_interrupt), so a guest's timers due in
 * such a stretch are late beyond what the guest's own recovery assumes.
 */
#define HOST_ABSENCE_MAX_MS	100
/*
 * A vCPU away for more than this share of the time it was watched (in
 * percent) waited more than it ran: a starved vCPU whose absences came in
 * short slices, each under the bound above (a SCHED_IDLE thread beside a
 * busy one still gets a slice every few tens of ms), is a host finding too.
 */
#define HOST_ABSENT_MAX_PCT	50

static u64 ms(u64 cycles)
{
	return tsc_to_ns(cycles) / 1000000;
}

/* Steps of 16 us and more between polls, as "[lo,hi):count" buckets. */
static void print_steps(int c, const struct steal_totals *t)
{
	char line[240];
	int len = snprintf_(line, sizeof(line), "CPU %d steps between polls (us, log2 buckets):", c);

	for (int b = 0; b < STEAL_HIST_BUCKETS && len < (int)sizeof(line) - 28; b++) {
		if (!t->hist[b])
			continue;
		if (b == STEAL_HIST_BUCKETS - 1)
			len += snprintf_(line + len, sizeof(line) - (size_t)len, " [%lu,):%lu",
					 (1ul << (STEAL_HIST_MIN + b)) / 1000, t->hist[b]);
		else
			len += snprintf_(line + len, sizeof(line) - (size_t)len, " [%lu,%lu):%lu",
					 (1ul << (STEAL_HIST_MIN + b)) / 1000,
					 (2ul << (STEAL_HIST_MIN + b)) / 1000, t->hist[b]);
	}
	diag("%s", line);
}

TEST(host, absence)
{
	const struct watch_totals *wt = watch_totals();
	u64 remeasured = 0, unjudged = 0, longest = 0, share = 0;
	int longest_cpu = -1, share_cpu = -1;
	char m[48];

	(void)env;
	diag("%s: it says how much of the time the measurements watched each vCPU (and QEMU's "
	     "main loop) was away; the devices' verdicts already excused what fell due then",
	     ABOUT);
	for (int c = 0; c < smp_count(); c++) {
		const struct steal_totals *t = steal_totals(c);

		/* Counted even on a CPU no window watched: the boot's
		 * calibration measures again and leaves unjudged without one. */
		remeasured += t->remeasured;
		unjudged += t->unjudged;
		if (!t->windows)
			continue;
		snprintf_(m, sizeof(m), "host.absent_ms.cpu%d", c);
		measure_x(m, (s64)ms(t->absent), 0, "ms", "of %lu ms watched in %lu windows, %lu "
			  "gaps of at least the measurement's period, the longest step %lu ms",
			  ms(t->watched), t->windows, t->gaps, ms(t->longest));
		print_steps(c, t);
		if (t->halts)
			diag("CPU %d halted %lu ms in %lu halts while idle%s", c, ms(t->halted), t->halts,
			     kvmsteal_info()->enabled ? " (host.steal says how much of it the host "
			     "left it waiting)" : "; without steal time (TCG, or KVM without it) "
			     "halted and descheduled cannot be told apart");
		if (t->watched && t->absent * 100 / t->watched > share) {
			share = t->absent * 100 / t->watched;
			share_cpu = c;
		}
		if (ms(t->longest) > longest) {
			longest = ms(t->longest);
			longest_cpu = c;
		}
	}
	if (wt->windows)
		measure_x("host.emulator_absent_ms", (s64)ms(wt->emulator_only), 0, "ms", "QEMU's main "
			  "loop away while CPU 0 ran, by the %lu RTC flags of %lu windows (%lu ms); the "
			  "longest %lu ms", wt->flags, wt->windows, ms(wt->watched), ms(wt->longest));
	else
		diag("the emulator was not watched (no RTC periodic flag)");
	measure_x("host.remeasured", (s64)remeasured, 0, NULL, "windows and samples measured again "
		  "because the host's absences spoiled them");
	summary_note("%lu measured again, %lu unjudged", remeasured, unjudged);
	measure_x("host.longest_absence_ms", (s64)MAX(longest, wt->windows ? ms(wt->longest) : 0),
		  0, "ms", "one stretch away, vCPU or emulator (tol %u ms: Linux's hrtimer back-off "
		  "bound)", HOST_ABSENCE_MAX_MS);
	if (unjudged)
		return fail("the host kept the vCPUs or the emulator away for most of every try in "
			    "%lu measurement(s), which were left unjudged (ERROR): %s", unjudged, ABOUT);
	if (longest > HOST_ABSENCE_MAX_MS)
		return fail("CPU %d was away for %lu ms in one stretch, more than %u ms: %s",
			    longest_cpu, longest, HOST_ABSENCE_MAX_MS, ABOUT);
	if (share > HOST_ABSENT_MAX_PCT)
		return fail("CPU %d was away for %lu %% of the time it was watched, more than %u %%: "
			    "it waited more than it ran: %s", share_cpu, share, HOST_ABSENT_MAX_PCT,
			    ABOUT);
	if (wt->windows && ms(wt->longest) > HOST_ABSENCE_MAX_MS)
		return fail("QEMU's main loop was away for %lu ms in one stretch, more than %u ms: %s",
			    ms(wt->longest), HOST_ABSENCE_MAX_MS, ABOUT);
	return PASS;
}

TEST(host, steal)
{
	const struct kvmsteal_info *ki = kvmsteal_info();
	enum verdict v = PASS;
	char m[48];

	(void)env;
	if (!ki->enabled)
		return skip("%s", ki->why[0] ? ki->why : "no steal time");
	diag("%s: KVM's steal time is the host's own count of the time a vCPU was ready to run "
	     "but not run", ABOUT);
	for (int c = 0; c < smp_count(); c++) {
		const struct steal_totals *t = steal_totals(c);

		if (!t->windows && !t->halts)
			continue;
		snprintf_(m, sizeof(m), "host.steal_ms.cpu%d", c);
		measure_x(m, (s64)(t->steal_ns / 1000000), 0, "ms", "in the %lu ms of watched windows, "
			  "where this vCPU saw %lu ms of gaps", ms(t->watched), ms(t->absent));
		snprintf_(m, sizeof(m), "host.halt_steal_ms.cpu%d", c);
		measure_x(m, (s64)(t->halt_steal_ns / 1000000), 0, "ms", "of %lu ms halted in %lu "
			  "halts: woken, then left waiting (descheduled) rather than halted",
			  ms(t->halted), t->halts);
		/* Steal time is part of the time that passed: more of it than
		 * the windows lasted is impossible. */
		if (t->steal_ns > tsc_to_ns(t->watched) + 1000000)
			v = fail("CPU %d: steal time %lu ms over windows that lasted %lu ms: %s", c,
				 t->steal_ns / 1000000, ms(t->watched), ABOUT);
	}
	measure_x("host.steal_retries", (s64)ki->retries, 0, NULL, "reads that found the record "
		  "being written (odd or changed version)");
	if (ki->failures)
		v = fail("the steal-time record never settled in %lu reads (%u tries each): %s",
			 ki->failures, KVM_STEAL_MAX_RETRIES, ABOUT);
	if (ki->backwards)
		v = fail("steal time went backwards %lu times: %s", ki->backwards, ABOUT);
	return v;
}

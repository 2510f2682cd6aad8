/*
 * Watching a measurement window for the host's absences: this vCPU's own
 * (gaps between its polls, arch-x86/delay.h) and the emulator's. Under
 * QEMU the devices' timers (HPET, RTC, and under TCG also the PIT and
 * the LAPIC timer) run in QEMU's main loop, a host thread of its own: when
 * the host does not run it, every such interrupt comes late and periodic
 * ones coalesce while the vCPU runs on. The guest sees that thread through
 * a witness: the RTC's periodic flag, set by the same main loop, polled
 * (register C) while the window runs. A flag due at d and still not set
 * when polled at q means the main loop did not run in [d, q].
 * A device is excused only for what fell due inside these intervals.
 */
#ifndef TESTS_ABSENCE_H
#define TESTS_ABSENCE_H

#include "arch-x86/delay.h"
#include "lib/gaps.h"

#define WATCH_SIGHTINGS	512	/* RTC flags kept per window (2 s at 256 Hz) */

struct watch {
	struct steal cpu;	/* this vCPU's own gaps */
	/* Its polls' own pace (see watch_end): steps between polls, those
	 * of at least the shortest gap kept (period / STEAL_RECORD_DIV), and
	 * as intervals those of half a period or more. */
	u64 polls, coarse_polls;
	struct gapset far;
	bool coarse;		/* the polls were as slow as the gaps kept */
	bool witness;		/* the RTC flag is watched */
	bool sighted;		/* ... through the RTC's own interrupts (watch_sight) */
	u64 rtc_period;		/* its period, cycles */
	u64 next_rtc;		/* TSC of the next witness poll */
	u64 nsight, overflow;	/* flags seen; seen beyond WATCH_SIGHTINGS */
	struct gapset emulator;	/* when the main loop demonstrably did not run */
	struct gapset all;	/* cpu.absent and emulator together */
};

/*
 * Starts watching: gaps of this vCPU of at least `period` cycles count;
 * with `witness`, the emulator is watched through the RTC flag too, when
 * the RTC's periodic flag runs (PIE set, a rate selected) and no one else
 * reads register C (never while the RTC itself is the device under test).
 * Only one window at a time may use the witness.
 */
void watch_begin(struct watch *w, u64 period, bool witness);
/*
 * As watch_begin with the witness, when the RTC's periodic interrupt runs
 * at hz under another window's test (tests/clockevent_test.c measures
 * several devices at once): the flag is not polled (the RTC's handler
 * reads register C); the caller hands each interrupt in with watch_sight
 * before watch_end, with the last poll of this window before it.
 */
void watch_begin_sighted(struct watch *w, u64 period, u64 hz);
void watch_sight(struct watch *w, u64 seen, u64 clear);
/* After watch_end of both: w (a window inside from's, on the same CPU)
 * takes from's emulator absences within its own span as its own. */
void watch_share(struct watch *w, const struct watch *from);
/* As watch_begin for a halted wait, which no poll runs in: only KVM's
 * steal time is kept (no gaps, no witness), without watch_begin's set-up
 * (under kvm_pvm ring-0 instructions are interpreted, and a oneshot
 * series begins a watch every round). Ended by watch_end. */
void watch_begin_halted(struct watch *w);
/* One poll: reads the TSC (returned) and, now and then, the witness. */
u64 watch_poll(struct watch *w);
/* Ends the window: finishes this CPU's accounting and works out the
 * emulator's absences from the flags seen. Where one poll in
 * WATCH_COARSE_DIV or more took as long as the shortest gap kept, those
 * steps are the loop's own turns, not absences (w->coarse): this vCPU's
 * absences are then its steps of half a period or more (w->cpu.absent
 * becomes w->far). */
void watch_end(struct watch *w);
/* Busy-waits until TSC end under watch (interrupts as they are). */
void watch_until(struct watch *w, u64 end);
/* Cycles the emulator did not run while this vCPU did, in the window. */
u64 watch_emulator_only(const struct watch *w);

/* What the witness saw over the whole run (on the CPU that watched). */
struct watch_totals {
	u64 windows;		/* windows watched with the witness */
	u64 watched;		/* their cycles */
	u64 emulator_only;	/* cycles the emulator did not run while the vCPU did */
	u64 longest;		/* the longest such interval */
	u64 flags;		/* RTC flags seen */
};
const struct watch_totals *watch_totals(void);

/* The witness's state for reports: "RTC flag at N Hz" or why not. */
const char *watch_witness_what(const struct watch *w);

#endif

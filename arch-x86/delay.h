/*
 * The TSC as the kernel's ruler: its rate, conversions between cycles and
 * nanoseconds, and bounded busy-waits. The rate starts as an assumed
 * 1 GHz; the TSC driver sets it from its early estimate and again after
 * calibration (measure/). Nothing here measures it.
 */
#ifndef ARCH_DELAY_H
#define ARCH_DELAY_H

#include "lib/gaps.h"
#include "lib/types.h"

/* The current ruler rate in Hz and where it came from ("pit", a CPUID
 * leaf, a calibration reference, or "assumed"). */
u64 tsc_hz(void);
const char *tsc_hz_source(void);
/* Replaces the ruler rate; only the TSC driver calls it (tsc_set_hz). */
void tsc_ruler_set(u64 hz, const char *source);
/* Cycles to nanoseconds and back, at the ruler rate. */
u64 tsc_to_ns(u64 cycles);
u64 ns_to_tsc(u64 ns);
/* Busy-waits us microseconds by the TSC. */
void tsc_delay_us(u64 us);

/*
 * Time this CPU did not run. A virtual CPU can be descheduled by the host
 * (or stalled by its emulator); an interrupt cannot be taken meanwhile,
 * and periodic ones coalesce. A busy-waiting CPU sees it as a gap between
 * two consecutive TSC reads. A measurement watches its window: it calls
 * steal_begin, steal_poll in its polling loop (every read of the TSC it
 * makes anyway), and steal_end. Gaps of at least `period` are counted;
 * those of an eighth of it and more are also kept as intervals (alone they
 * cannot coalesce two events a period apart, but next to another absence
 * they lengthen it), so that the measurement can excuse exactly what fell
 * inside them; and KVM steal time (where the hypervisor offers it) says
 * how much of that the host itself counts as the vCPU's waiting.
 */
struct steal {
	u64 gaps;		/* gaps of at least one period */
	u64 cycles;		/* their total length */
	u64 periods;		/* whole periods inside them */
	u64 longest;		/* the longest step between two polls, cycles */
	u64 period;		/* the shortest gap that counts, cycles (0: none) */
	u64 start, last;	/* TSC at steal_begin and at the latest poll */
	u64 steal_ns;		/* KVM steal time over the window (steal_known) */
	bool steal_known;
	struct gapset absent;	/* gaps >= period / STEAL_RECORD_DIV, as intervals
				 * [poll before, poll after) */
	u64 steal0;		/* KVM steal time at steal_begin */
};

#define STEAL_RECORD_DIV	8

/* Starts watching this CPU: gaps of at least `period` cycles count. */
void steal_begin(struct steal *s, u64 period);
/* Reads the TSC (ordered) and accounts the step from the previous poll;
 * returns the TSC read. */
u64 steal_poll(struct steal *s);
/* Before the first poll: moves the window's start back to TSC `from`, when
 * it began later (this CPU came late to a window that began then), so that
 * the first poll's step covers the time since. */
void steal_backdate(struct steal *s, u64 from);
/* Ends the window: reads KVM steal time and adds the window to this
 * CPU's totals. */
void steal_end(struct steal *s);
/* Busy-waits (interrupts as they are) until TSC `end`, accounting gaps
 * of at least `period` cycles into s (begin, polls and end). */
void tsc_wait_steal(u64 end, u64 period, struct steal *s);
/*
 * Halts until an interrupt (STI; HLT: interrupts must be off, and are on
 * after) and accounts the halt in this CPU's totals: time halted is the
 * CPU's own choice, but KVM steal time that grew meanwhile is time the
 * vCPU was woken and left waiting by the host. Returns cycles halted.
 */
u64 steal_halt(void);
/* Notes that a test measured a window again because an absence spoiled
 * it, and that a test gave up judging a device because the host kept it
 * from measuring (every window spoiled), for this CPU's totals. */
void steal_note_remeasured(void);
void steal_note_unjudged(void);

/* Steps between polls, in log2 buckets of ns from 2^STEAL_HIST_MIN. */
#define STEAL_HIST_MIN		14	/* 16 us */
#define STEAL_HIST_BUCKETS	18	/* up to 2^31 ns (2 s) and beyond */

/* What one CPU's watched windows and halts came to, over the whole run. */
struct steal_totals {
	u64 windows;		/* windows watched */
	u64 watched;		/* cycles watched */
	u64 gaps, absent;	/* gaps of at least their window's period: count, cycles */
	u64 longest;		/* the longest step seen, cycles */
	u64 steal_ns;		/* KVM steal time inside watched windows */
	u64 halts, halted;	/* HLTs and cycles halted */
	u64 halt_steal_ns;	/* KVM steal time that grew while halted */
	u64 remeasured;		/* windows measured again */
	u64 unjudged;		/* devices left unjudged because of the host */
	u64 hist[STEAL_HIST_BUCKETS];	/* steps of 16 us and more */
};
/* CPU cpu's totals (NULL when cpu is out of range). */
const struct steal_totals *steal_totals(int cpu);

#endif

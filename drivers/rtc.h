/* MC146818 CMOS real-time clock: wall time at boot, and its periodic
 * flag as a slow time reference. */
#ifndef DRIVERS_RTC_H
#define DRIVERS_RTC_H

#include "lib/types.h"

#define CMOS_INDEX	0x70	/* bit 7 of the index disables NMI */
#define CMOS_DATA	0x71
#define RTC_SECONDS	0x00
#define RTC_MINUTES	0x02
#define RTC_HOURS	0x04
#define   HOURS_PM	0x80	/* in 12-hour mode */
#define RTC_DAY		0x07
#define RTC_MONTH	0x08
#define RTC_YEAR	0x09
#define RTC_REG_A	0x0A
#define   REG_A_UIP	0x80	/* update in progress */
#define   REG_A_RATE_MASK 0x0F
#define RTC_REG_B	0x0B
#define   REG_B_PIE	0x40	/* periodic interrupt enable */
#define   REG_B_AIE	0x20
#define   REG_B_UIE	0x10
#define   REG_B_BINARY	0x04	/* else BCD */
#define   REG_B_24H	0x02	/* else 12-hour */
#define RTC_REG_C	0x0C	/* reading acknowledges (IRQ8) */
#define   REG_C_PF	0x40	/* periodic flag */
#define   REG_C_UF	0x10	/* update-ended flag */
#define RTC_REG_D	0x0D
#define   REG_D_VRT	0x80	/* battery/RAM valid */

#define RTC_BASE_HZ	32768u
/* Periodic rate for rate select r (3..15): 32768 >> (r - 1). */
#define RTC_RATE_HZ(r)	(RTC_BASE_HZ >> ((r) - 1))
#define RTC_UIP_WAIT_US	10000	/* UIP lasts ≤ 2 ms (244 µs + 1984 µs) */

struct rtc_time {
	int year, month, day, hour, minute, second;
};

struct acpi_info;

/* Reads the date and time: waits (bounded) for no update in progress and
 * reads until two passes agree; decodes BCD/binary and 12/24-hour; the
 * century comes from the FADT's CMOS register when there is one.
 * Returns 0, -ETIMEDOUT when UIP never cleared, -EIO for an impossible
 * date (why says which field), -ENODEV when no RTC answers. */
int rtc_read(const struct acpi_info *ai, struct rtc_time *t, const char **why);
/* Passes rtc_read read again because two disagreed (an update came in
 * between) or another register was selected inside one (IRQ8's handler,
 * another CPU), over the whole run. */
u64 rtc_read_retries(void);
/* A date or time register's value in binary: decoded from BCD unless
 * register B (regb) has REG_B_BINARY. */
int rtc_decode(u8 raw, u8 regb);
/*
 * A second edge: the update transfer, which the data sheet puts 244 us
 * after UIP rises ("After the UIP bit goes high, the update transfer
 * occurs 244 us later", DS12887; QEMU raises UIP UIP_HOLD_LENGTH = 8 /
 * 32768 s before the second). UIP's fall is no edge to time by: a real
 * chip drops it when the ~2 ms update cycle ends, and QEMU holds it until
 * its update timer has run on the main loop, late on a busy host.
 */
#define RTC_UIP_LEAD_NS		244141
#define RTC_EDGE_WAIT_US	1100000	/* UIP rises within 1 s */

struct rtc_edge {
	u64 tsc;		/* TSC of the transfer */
	u64 unc;		/* +- cycles: half the bracket of the rising edge */
	u64 unix_s;		/* the second that began there */
	int retaken;		/* edges placed worse than RTC_UIP_LEAD_NS, retaken */
};

/* Reads the time, then waits (bounded) for the next transfer, timed by
 * UIP's rise (or by the seconds turning, when the vCPU missed UIP's
 * 244 us): the second read plus one begins there. An edge placed less
 * well than the 244 us (the vCPU did not run: the host's doing) is taken
 * again a second later, at most RTC_EDGE_TRIES times in all. Returns 0,
 * -ETIMEDOUT (*why says why), or what rtc_read returns. */
#define RTC_EDGE_TRIES		3
int rtc_second_edge(const struct acpi_info *ai, struct rtc_edge *e, const char **why);
/* The same, but an edge placed less well than +- max_unc_ns is taken
 * again, at most `tries` edges in all (1: the first, however well it is
 * placed), for a caller whose tolerance takes a wider bracket or that can
 * do without the edge: each try more costs a second. */
int rtc_edge_within(const struct acpi_info *ai, struct rtc_edge *e, u64 max_unc_ns, int tries,
		    const char **why);
/* The last edge rtc_second_edge returned in this run (false: none yet),
 * for a caller that can carry it forward by the TSC instead of waiting
 * for one of its own. */
bool rtc_last_edge(struct rtc_edge *e);

/*
 * Second edges taken while other work runs (a periodic window's loop):
 * rtc_edge_catch_begin reads the time; rtc_edge_catch_poll, called on every
 * turn of the caller's loop, polls UIP as rtc_second_edge does (register A
 * and, after a gap, the seconds; no port access until the next edge is
 * near, none once two consecutive edges are held) and keeps edges as a
 * pair of consecutive seconds a second apart by the ruler (to 5 ms), each
 * confirming the other: one placed as edge_wait places edges (within 50
 * us or as well as rtc_edge_catch_end's own loop places them here, measured
 * at rtc_edge_catch_begin, or by that loop), the other within 1 ms by its
 * own polls and within RTC_UIP_LEAD_NS once placed by the first carried a
 * second by the ruler (within 100 ppm); no single edge is kept. It returns true once rtc_edge_pair holds a pair.
 * Register reads that IRQ8's handler may have reselected in between are
 * read again; while catching, that handler leaves register A selected.
 */
void rtc_edge_catch_begin(const struct acpi_info *ai);
bool rtc_edge_catch_poll(void);
/* Stops catching; with pair, after waiting (at most a second and 50 ms
 * after the last edge seen) for the edge that completes a pair, in a
 * loop of its own that places it as edge_wait does (no wait where no edge
 * was kept: none could). */
void rtc_edge_catch_end(bool pair);
/* The wait rtc_edge_catch_end(true) makes, catching on after it: true
 * once a pair is held. An edge it caught that made no pair (the one
 * before it was placed too widely, or only within 5 ms: then not kept) is
 * the next pair's narrow edge. */
bool rtc_edge_catch_wait(void);
/* From this TSC on, rtc_edge_catch_end's wait would find the edge after
 * the last one seen (a second after it, less the catcher's 20 ms lead; an
 * edge placed more widely than a pair allows counts when placed within
 * 5 ms, kept or not);
 * 0 when not catching, a pair is held or no edge was caught. A caller
 * that stopped polling can do other work until then. */
u64 rtc_edge_catch_near(void);
/* What the catcher saw: edges placed (any width), their narrowest and
 * widest placement (+- ns), whether a pair is held, and whether the last
 * edge is a narrow one. */
struct rtc_catch_stats {
	u32 edges;
	u64 min_unc_ns, max_unc_ns;
	bool paired;
	bool last_narrow;	/* the last edge caught was placed as edge_wait places
				 * them: the next may make a pair placed within 1 ms */
	u64 narrow_ns;		/* an edge a caller's loop placed within this is
				 * placed as edge_wait places them (measured) */
};
void rtc_edge_catch_stats(struct rtc_catch_stats *st);
/* The last edge the catcher placed within 1 ms, in a pair or not yet (its
 * own placing; false when none), for a caller that needs one edge near
 * in time, not a pair. */
bool rtc_edge_catch_last(struct rtc_edge *e);
/* The newest two of the last few edges this run took (caught or waited
 * for) that are of consecutive seconds, each placed within
 * RTC_UIP_LEAD_NS; false when there are none. */
bool rtc_edge_pair(struct rtc_edge *e0, struct rtc_edge *e1);

/* Days-from-civil: Unix seconds of t (UTC), for years 1970..9999. */
u64 rtc_to_unix(const struct rtc_time *t);
/* Reads a CMOS register (NMI stays enabled). */
u8 cmos_read(u8 reg);
void cmos_write(u8 reg, u8 v);
/*
 * Registers the "rtc" event source: the periodic flag at rate select
 * `rate` (e.g. 8 -> 256 Hz), polled through register C. Its count is the
 * number of flags seen, so it must be polled more often than the period.
 * Sets PIE (QEMU needs it for the flag to run) with IRQ8 left masked.
 * Returns 0 or -ENODEV.
 */
int rtc_clocksource_init(int rate, const char **why);

/*
 * Registers the "rtc" clockevent: the periodic interrupt on IRQ8 through
 * the IOAPIC, at the power-of-two rates the chip has (2-8192 Hz; other
 * rates are -EINVAL), acknowledged by reading register C. Register A and
 * B are restored at shutdown. Returns 0 or -ENODEV (*why says why).
 */
int rtc_clockevent_init(int nioapics, const char **why);

#endif

/* CPU primitives: port I/O, MMIO, MSRs, CPUID, TSC reads, interrupt flag. */
#ifndef ARCH_CPU_H
#define ARCH_CPU_H

#include "lib/types.h"

/*
 * Device accesses since boot, counted by the accessors below (port I/O,
 * MMIO, MSRs) and by drivers that store to device memory directly
 * (io_count); the consoles count theirs a second time as IO_CONSOLE.
 * Under a hypervisor each one is an exit, so how many a suite makes sets
 * its time as much as the length of its windows does (the
 * run.reads.<suite> measurements).
 *
 * Only in the counting build (-DIO_COUNT, build/count/, which `make
 * bench` uses for the read counts): a count is a load and a store in
 * every read path, which moved read_cycles.p50 by 26 cycles under TCG and
 * by 2.6-7.8 us where the guest is interpreted (kvm_pvm). The default
 * kernel's figures must not carry that, so there io_count is nothing and
 * IO_COUNTING is 0. The count is a relaxed load and store, not a locked
 * add: two CPUs counting at the same instant may lose one (a lower bound).
 */
enum io_kind {
	IO_PORT, IO_MMIO, IO_MSR,
	IO_CONSOLE,	/* of those, the consoles' (UART, VGA text): output */
	IO_KINDS
};
extern u64 io_counts[IO_KINDS];

#ifdef IO_COUNT
#define IO_COUNTING	1
static inline void io_count(enum io_kind k)
{
	__atomic_store_n(&io_counts[k], __atomic_load_n(&io_counts[k], __ATOMIC_RELAXED) + 1,
			 __ATOMIC_RELAXED);
}
#else
#define IO_COUNTING	0
static inline void io_count(enum io_kind k)
{
	(void)k;
}
#endif

static inline void outb(u16 port, u8 v)
{
	io_count(IO_PORT);
	__asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port));
}
static inline void outw(u16 port, u16 v)
{
	io_count(IO_PORT);
	__asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port));
}
static inline void outl(u16 port, u32 v)
{
	io_count(IO_PORT);
	__asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port));
}
/* n bytes from buf to one port by REP OUTSB: n accesses. KVM can hand
 * them to the device model in one exit (KVM_EXIT_IO with count n); kvm_pvm
 * was seen to take an exit per byte still (7.9 us a byte against 10 us for
 * single OUTBs), so each byte is counted. */
static inline void outsb(u16 port, const u8 *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		io_count(IO_PORT);
	__asm__ volatile("rep outsb" : "+S"(buf), "+c"(n) : "d"(port) : "memory");
}
static inline u8 inb(u16 port)
{
	u8 v;

	io_count(IO_PORT);
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline u16 inw(u16 port)
{
	u16 v;

	io_count(IO_PORT);
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline u32 inl(u16 port)
{
	u32 v;

	io_count(IO_PORT);
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* MMIO: the low 4 GiB is identity-mapped (uncached above 3 GiB). */
static inline u32 mmio_read32(u64 addr)
{
	io_count(IO_MMIO);
	return *(volatile u32 *)(uintptr_t)addr;
}
static inline void mmio_write32(u64 addr, u32 v)
{
	io_count(IO_MMIO);
	*(volatile u32 *)(uintptr_t)addr = v;
}
static inline u64 mmio_read64(u64 addr)
{
	io_count(IO_MMIO);
	return *(volatile u64 *)(uintptr_t)addr;
}
static inline void mmio_write64(u64 addr, u64 v)
{
	io_count(IO_MMIO);
	*(volatile u64 *)(uintptr_t)addr = v;
}

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;

	io_count(IO_MSR);
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static inline void wrmsr(u32 msr, u64 v)
{
	io_count(IO_MSR);
	__asm__ volatile("wrmsr" :: "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

struct cpuid_regs { u32 eax, ebx, ecx, edx; };

static inline struct cpuid_regs cpuid(u32 leaf, u32 sub)
{
	struct cpuid_regs r;

	__asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(sub));
	return r;
}

/* Plain RDTSC: may execute before earlier instructions complete. */
static inline u64 rdtsc(void)
{
	u32 lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return ((u64)hi << 32) | lo;
}

/* LFENCE; RDTSC: ordered after all earlier instructions (Intel SDM: LFENCE
 * waits for prior instructions to complete locally; AMD with the
 * LFENCE-serialising MSR bit, which every current kernel sets). */
static inline u64 rdtsc_ordered(void)
{
	u32 lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return ((u64)hi << 32) | lo;
}

static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void halt(void) { __asm__ volatile("hlt" ::: "memory"); }

/* Saves RFLAGS and disables interrupts; pass the result to irq_restore. */
static inline u64 irq_save(void)
{
	u64 f;

	__asm__ volatile("pushfq; popq %0; cli" : "=r"(f) :: "memory");
	return f;
}

static inline void irq_restore(u64 flags)
{
	if (flags & (1 << 9))
		irq_enable();
}

static inline u64 read_cr2(void) { u64 v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }

#endif

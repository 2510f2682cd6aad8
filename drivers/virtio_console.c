/* The virtio console sink. It must never wait without a bound: a device
 * that stops returning buffers is given up on, and the console then falls
 * back to its standby (the UART, boot/consoles.c). */
#include "virtio_console.h"
#include "arch-x86/cpu.h"
#include "arch-x86/delay.h"
#include "arch-x86/pci.h"
#include "lib/console.h"
#include "lib/str.h"

/*
 * Transmit buffers: one descriptor each (descriptor i always points at
 * slot i), handed out again only once the used ring has returned them. A
 * kprintf line is at most KPRINTF_MAX bytes, so one write is usually one
 * slot. Under KVM QEMU copies them out on its main thread, apart from the
 * vCPU, and falls behind in bursts: with 32 slots a default KVM run waited
 * for a free one 17 times (11 ms of its 73 ms of console writes), so there
 * are as many as the queue has (QEMU's virtio-serial: 128). NOINIT: each
 * is written before the device is given it, and the loader's zeroing is
 * free where ours is not (a REP STOS step is 0.3-0.8 us under kvm_pvm).
 */
#define TX_SLOTS	128
#define SLOT_SIZE	KPRINTF_MAX
/* How long a write waits for a free buffer, and the exit for the last
 * ones to go out, before the device is given up on. QEMU returns a buffer
 * once its character device took the bytes: a second is far beyond any
 * healthy host, short enough that a wedged one costs a run little. */
#define WAIT_MS		1000

struct vcon {
	struct console_sink sink;	/* first: the sink leads back here */
	u16 io;
	u16 qsize;
	struct vring_desc *desc;
	struct vring_avail *avail;
	volatile struct vring_used *used;
	u16 avail_idx;			/* the next avail->idx we publish */
	u16 used_seen;			/* used->idx up to which we reclaimed */
	u8 free[TX_SLOTS];		/* slots to hand out, a stack */
	int nfree;
	int nslots;			/* slots in use: TX_SLOTS, or the queue's size */
	bool busy[TX_SLOTS];		/* with the device */
	bool live;
	u32 stall_after;		/* plant: writes still notified, 0 = no plant */
	bool stalled;
};

static struct vcon vcon;
/* The queue's memory: the kernel image's own (identity-mapped below
 * 4 GiB, so its address is the physical one the device is given). */
static u8 ring_mem[3 * VIO_QUEUE_ALIGN] __attribute__((aligned(VIO_QUEUE_ALIGN)));
static char slots[TX_SLOTS][SLOT_SIZE] NOINIT;

static u64 align_up(u64 v, u64 a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Where the used ring starts for a queue of size q (legacy layout). */
static u64 used_offset(u16 q)
{
	return align_up(sizeof(struct vring_desc) * q + sizeof(struct vring_avail) + 2u * q + 2,
			VIO_QUEUE_ALIGN);
}

/* Takes back what the device has returned; ids it never had are ignored. */
static void reclaim(struct vcon *v)
{
	u16 idx = v->used->idx;

	while (v->used_seen != idx) {
		u32 id = v->used->ring[v->used_seen % v->qsize].id;

		if (id < (u32)v->nslots && v->busy[id]) {
			v->busy[id] = false;
			v->free[v->nfree++] = (u8)id;
		}
		v->used_seen++;
	}
}

/*
 * Stops using the device: it is reset, so that it no longer reads our
 * buffers, and the console's standby takes over from this write on. The
 * buffers it never returned are handed to the standby, oldest first
 * (QEMU returns them in the order they were made available), so that the
 * report stays whole: a line the device sent but did not return yet may
 * then appear twice, none is lost.
 */
static void give_up(struct vcon *v, const char *what)
{
	int held = v->nslots - v->nfree;

	v->live = false;
	outb((u16)(v->io + VIO_STATUS), 0);
	kprintf("%s# warning: virtio console: %s within %d ms: given up, output falls back "
		"to the UART (%d buffers resent)\n", console_indent(), what, WAIT_MS, held);
	for (u16 i = (u16)(v->avail_idx - held); i != v->avail_idx; i++) {
		u16 id = v->avail->ring[i % v->qsize];

		if (id < v->nslots && v->busy[id])
			console_write_standby(slots[id], v->desc[id].len);
	}
}

/* Reclaims until done(v) or WAIT_MS pass; returns done(v). */
static bool wait_for(struct vcon *v, bool (*done)(const struct vcon *v))
{
	u64 start = rdtsc(), limit = ns_to_tsc((u64)WAIT_MS * 1000000);

	reclaim(v);
	while (!done(v)) {
		if (rdtsc() - start > limit)
			return false;
		cpu_relax();
		reclaim(v);
	}
	return true;
}

static bool one_free(const struct vcon *v)
{
	return v->nfree > 0;
}

static bool all_free(const struct vcon *v)
{
	return v->nfree == v->nslots;
}

/*
 * The text as it is: no "\r" before each "\n". A virtio console is a
 * stream, not a terminal line (Linux's hvc leaves ONLCR to the tty), and
 * the host tool strips "\r" from every line; looking at each byte would
 * cost what the UART did where ring 0 is interpreted (kvm_pvm).
 */
static void vcon_write(const struct console_sink *sink, const char *s, size_t n)
{
	struct vcon *v = (struct vcon *)sink;
	bool posted = false;

	while (n && v->live) {
		size_t k = MIN(n, (size_t)SLOT_SIZE);
		u8 id;

		if (!v->nfree && !wait_for(v, one_free)) {
			give_up(v, "no transmit buffer came back");
			return;
		}
		id = v->free[--v->nfree];
		v->busy[id] = true;
		memcpy(slots[id], s, k);
		v->desc[id].len = (u32)k;
		v->avail->ring[v->avail_idx % v->qsize] = id;
		/* The entry before the index that publishes it (x86 keeps
		 * stores in order; the compiler must too). */
		__asm__ volatile("" ::: "memory");
		++v->avail_idx;
		/* Planted stall: nothing is published from then on, so that
		 * QEMU, handling an earlier notify late on a loaded host, cannot
		 * take buffers the plant means it never to see (make test saw
		 * the give-up come at the final drain instead). */
		if (!v->stalled)
			v->avail->idx = v->avail_idx;
		s += k;
		n -= k;
		posted = true;
	}
	if (posted && v->stall_after && --v->stall_after == 0)
		v->stalled = true;
	if (posted && !v->stalled) {
		__asm__ volatile("" ::: "memory");
		io_count(IO_CONSOLE);
		outw((u16)(v->io + VIO_QUEUE_NOTIFY), VIO_QUEUE_TX);
	}
}

static bool vcon_live(const struct console_sink *sink)
{
	return ((const struct vcon *)sink)->live;
}

static void vcon_flush(const struct console_sink *sink)
{
	struct vcon *v = (struct vcon *)sink;

	if (v->live && !wait_for(v, all_free))
		give_up(v, "the last buffers did not go out");
}

/* Sets the status bits and checks the device kept them (a device that
 * refuses sets FAILED or NEEDS_RESET, or reads back other bits). */
static bool set_status(u16 io, u8 bits)
{
	outb((u16)(io + VIO_STATUS), bits);
	return inb((u16)(io + VIO_STATUS)) == bits;
}

/* The transmit queue in ring_mem: descriptors i -> slots[i], no
 * interrupts. Returns NULL or what is wrong. */
static const char *setup_tx(struct vcon *v)
{
	u16 q;

	outw((u16)(v->io + VIO_QUEUE_SEL), VIO_QUEUE_TX);
	q = inw((u16)(v->io + VIO_QUEUE_SIZE));
	if (q == 0 || q > VCON_QUEUE_MAX || (q & (q - 1)))
		return "transmit queue size not a power of 2 up to 256";
	if (inl((u16)(v->io + VIO_QUEUE_PFN)) != 0)
		return "transmit queue in use after reset";
	if (used_offset(q) + sizeof(struct vring_used) + 8u * q + 2 > sizeof(ring_mem))
		return "transmit queue larger than the memory set aside";
	memset(ring_mem, 0, sizeof(ring_mem));
	v->qsize = q;
	v->desc = (struct vring_desc *)ring_mem;
	v->avail = (struct vring_avail *)(ring_mem + sizeof(struct vring_desc) * q);
	v->used = (volatile struct vring_used *)(ring_mem + used_offset(q));
	v->avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	v->nslots = MIN(q, TX_SLOTS);
	for (int i = 0; i < v->nslots; i++) {
		v->desc[i].addr = (u64)(uintptr_t)slots[i];
		v->free[i] = (u8)(v->nslots - 1 - i);
	}
	v->nfree = v->nslots;
	outl((u16)(v->io + VIO_QUEUE_PFN), (u32)((uintptr_t)ring_mem / VIO_QUEUE_ALIGN));
	return NULL;
}

int virtio_console_add(u16 *io, const char **why)
{
	struct pci_dev d;
	struct vcon *v = &vcon;
	const char *bad;

	if (!pci_present()) {
		*why = "no PCI configuration space";
		return -ENODEV;
	}
	if (pci_find(VIRTIO_VENDOR, VIRTIO_DEV_CONSOLE, &d) != 0) {
		*why = pci_find(VIRTIO_VENDOR, VIRTIO_DEV_CONSOLE_MODERN, &d) == 0 ?
		       "only a modern virtio console (disable-legacy=on), which this driver does not "
		       "drive" : "no virtio console on PCI bus 0";
		return -ENODEV;
	}
	/* A transitional device has revision 0 and the device type as its
	 * subsystem id (virtio 1.x 4.1.2.1). */
	if ((pci_read32(&d, PCI_CLASS_REV) & 0xFF) != 0 ||
	    pci_read32(&d, PCI_SUBSYSTEM) >> 16 != VIRTIO_ID_CONSOLE) {
		*why = "virtio console with a revision or subsystem id a legacy driver must not take";
		return -ENODEV;
	}
	/* qboot assigns no BARs; SeaBIOS and OVMF do. */
	int err = pci_bar_io(&d, 0, io);

	if (err == -ENODEV)
		err = pci_assign_io(&d, 0, io);
	if (err) {
		*why = "virtio console's BAR 0 is no I/O range we can use";
		return -EIO;
	}
	pci_enable(&d, PCI_COMMAND_IO | PCI_COMMAND_MASTER);
	*v = (struct vcon){ .io = *io };
	outb((u16)(v->io + VIO_STATUS), 0);		/* reset */
	if (!set_status(v->io, VIO_S_ACK) || !set_status(v->io, VIO_S_ACK | VIO_S_DRIVER)) {
		*why = "the device did not take ACKNOWLEDGE and DRIVER";
		return -EIO;
	}
	/* Nothing from the host's list: no MULTIPORT (port 0 alone), no
	 * console size, no emergency write. */
	(void)inl((u16)(v->io + VIO_HOST_FEATURES));
	outl((u16)(v->io + VIO_GUEST_FEATURES), 0);
	bad = setup_tx(v);
	if (!bad && !set_status(v->io, VIO_S_ACK | VIO_S_DRIVER | VIO_S_DRIVER_OK))
		bad = "the device did not take DRIVER_OK";
	if (bad) {
		outb((u16)(v->io + VIO_STATUS), VIO_S_FAILED);
		*why = bad;
		return -EIO;
	}
	v->live = true;
	v->sink = (struct console_sink){ .name = "virtio", .write = vcon_write,
					 .live = vcon_live, .flush = vcon_flush };
	if (console_register(&v->sink) != 0) {
		v->live = false;
		outb((u16)(v->io + VIO_STATUS), 0);
		return -ERANGE;
	}
	return 0;
}

void virtio_console_plant_stall(u32 writes)
{
	vcon.stall_after = writes;
	vcon.stalled = false;
}

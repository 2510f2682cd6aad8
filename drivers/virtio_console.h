/*
 * A virtio console (QEMU's `-device virtio-serial-pci -device virtconsole`,
 * Linux's hvc0) as a console sink: each console write is one buffer (or a
 * few) on the transmit queue and one notify, one exit under a hypervisor
 * where a UART takes one or more a byte. Legacy virtio-pci through the
 * I/O BAR (virtio 1.x spec 4.1.4.8), which QEMU's transitional device
 * offers on a PCI bus (pc, and q35's root bus), without MULTIPORT: port 0
 * is the console, queue 0 its receive and queue 1 its transmit queue.
 */
#ifndef DRIVERS_VIRTIO_CONSOLE_H
#define DRIVERS_VIRTIO_CONSOLE_H

#include "lib/types.h"

#define VIRTIO_VENDOR		0x1AF4
#define VIRTIO_DEV_CONSOLE	0x1003	/* transitional: legacy interface too */
#define VIRTIO_DEV_CONSOLE_MODERN 0x1043	/* virtio 1.x only (disable-legacy=on) */
#define VIRTIO_ID_CONSOLE	3	/* the subsystem id of a transitional device */

/* The legacy register block in BAR 0 (I/O space), without MSI-X. */
#define VIO_HOST_FEATURES	0x00	/* 32 bits, read */
#define VIO_GUEST_FEATURES	0x04	/* 32 bits */
#define VIO_QUEUE_PFN		0x08	/* 32 bits: the queue's address / 4096, 0 = none */
#define VIO_QUEUE_SIZE		0x0C	/* 16 bits, read: fixed by the device */
#define VIO_QUEUE_SEL		0x0E	/* 16 bits */
#define VIO_QUEUE_NOTIFY	0x10	/* 16 bits: the queue's number */
#define VIO_STATUS		0x12	/* 8 bits; writing 0 resets the device */
#define  VIO_S_ACK		0x01
#define  VIO_S_DRIVER		0x02
#define  VIO_S_DRIVER_OK	0x04
#define  VIO_S_NEEDS_RESET	0x40
#define  VIO_S_FAILED		0x80
#define VIO_ISR			0x13	/* 8 bits, read acknowledges */
#define VIRTIO_CONSOLE_F_MULTIPORT (1u << 1)	/* not taken: port 0 only */
#define VIO_QUEUE_RX		0
#define VIO_QUEUE_TX		1

/* The split virtqueue (virtio 1.x 2.7), laid out as a legacy device
 * expects: descriptors, then the available ring, then the used ring on
 * the next 4096-byte boundary. */
struct vring_desc {
	u64 addr;
	u32 len;
	u16 flags;		/* no NEXT, no WRITE: one device-readable buffer */
	u16 next;
};
struct vring_avail {
	u16 flags;
#define  VRING_AVAIL_F_NO_INTERRUPT 1	/* we poll: no interrupt when buffers return */
	u16 idx;
	u16 ring[];
};
struct vring_used_elem {
	u32 id;
	u32 len;
};
struct vring_used {
	u16 flags;
	u16 idx;
	struct vring_used_elem ring[];
};
#define VIO_QUEUE_ALIGN		4096
/* The largest queue this driver lays out (QEMU's virtio-serial has 128). */
#define VCON_QUEUE_MAX		256

/*
 * Finds the first virtio console on PCI bus 0, brings it up (reset, ACK,
 * DRIVER, no features, the transmit queue in kernel memory, DRIVER_OK)
 * and registers it as the console sink "virtio". Returns 0 (*io is its
 * I/O base), -ENODEV when there is none (no PCI, no device, or only the
 * modern interface: *why says which), -EIO when the device refused
 * (*why says how; nothing is registered), -ERANGE when the console table
 * is full.
 */
int virtio_console_add(u16 *io, const char **why);
/*
 * Self-test (vcon_stall=N): after N more writes the console stops
 * publishing buffers to the device and notifying it, as if it no longer
 * returned them. The writes
 * after it then wait for a buffer, give the device up and fall back to
 * the standby UART, resending what the device kept.
 */
void virtio_console_plant_stall(u32 writes);

#endif

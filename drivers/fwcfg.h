/*
 * QEMU's firmware configuration device (fw_cfg, I/O ports 0x510/0x511):
 * only the one file tickscope reads, "opt/tickscope/cmdline", which the
 * host tool uses to add options to a boot whose command line GRUB fixes
 * (an ISO). Probed only under a hypervisor: on hardware the ports may
 * belong to something else. Where the device offers its DMA interface
 * (QEMU 2.9 on), the directory and the file come in one transfer each:
 * by the data port every byte is an exit, and the ~30 entries' 2 KB of
 * directory took 37 ms of a kvm_pvm boot.
 */
#ifndef DRIVERS_FWCFG_H
#define DRIVERS_FWCFG_H

#include "lib/types.h"

#define FWCFG_SELECTOR		0x510	/* 16-bit write */
#define FWCFG_DATA		0x511	/* 8-bit read */
#define FWCFG_DMA_HI		0x514	/* 32-bit writes, big-endian: the */
#define FWCFG_DMA_LO		0x518	/* access's address; LO starts it */
#define FWCFG_SIGNATURE		0x0000	/* "QEMU" */
#define FWCFG_ID		0x0001	/* u32, little-endian */
#define   FWCFG_ID_DMA		0x02	/* the DMA interface is there */
#define FWCFG_FILE_DIR		0x0019	/* u32 count, then 64-byte entries (big-endian) */
#define FWCFG_CMDLINE_FILE	"opt/tickscope/cmdline"
#define FWCFG_MAX_FILES		64

/* Copies the file's text (cut to size - 1, NUL-terminated) to buf.
 * Returns its length, or -ENODEV when there is no fw_cfg or no file. */
int fwcfg_cmdline(char *buf, size_t size);

#endif

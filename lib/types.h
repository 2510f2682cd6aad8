/* Fixed-width types and small helpers shared by the kernel and host tests. */
#ifndef LIB_TYPES_H
#define LIB_TYPES_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdarg.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/*
 * A static buffer every use writes before it reads: in .noinit
 * (boot/linker.ld), which the loader zeroes (multiboot's bss_end_addr, the
 * ELF's memory size) but boot.S does not zero again. Where the guest is
 * interpreted (kvm_pvm) each MiB zeroed costs ~70 ms of every boot.
 */
#ifdef HOST_TEST
#define NOINIT
#else
#define NOINIT __attribute__((section(".noinit")))
#endif

/* Error codes returned by probes (negative), as Linux does. */
#define ENODEV 19
#define EINVAL 22
#define ETIMEDOUT 110
#define ERANGE 34
#define EIO 5
#define EBUSY 16
#define ENOMEM 12
#define EEXIST 17
#define EFAULT 14
#define ENOSPC 28

#endif

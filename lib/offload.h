/*
 * Pure computation run where it is cheapest. Where the hypervisor
 * interprets the kernel's own (ring-0) instructions, ~0.6 us each under
 * this host's kvm_pvm, the same code at CPL 3 runs natively (~2000 times
 * faster, measured: 10 register adds 7.5 us in ring 0, 4 ns in ring 3), so
 * arch-x86 registers a runner that calls fn at CPL 3 (arch-x86/usermode.h).
 * Until one is registered, and on the host, offload() calls fn directly.
 *
 * fn may read and write any memory and call any pure function; it must
 * not touch a device (port, MMIO, MSR), control registers, the interrupt
 * flag, halt, or print: those would fault at CPL 3.
 */
#ifndef LIB_OFFLOAD_H
#define LIB_OFFLOAD_H

#include "types.h"

typedef u64 (*offload_fn)(void *arg);
typedef u64 (*offload_runner)(offload_fn fn, void *arg);

/* Runs fn(arg) (by the registered runner, if any); returns what fn did. */
u64 offload(offload_fn fn, void *arg);
/* Registers the runner (NULL: call directly again); returns the one it
 * replaces, so that a caller can call directly for a while and put it
 * back (the exception dump, arch-x86/idt.c). */
offload_runner offload_set(offload_runner run);

#endif

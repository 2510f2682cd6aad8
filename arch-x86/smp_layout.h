/* Where the AP start-up code runs: a page below 1 MiB that the BIOS and
 * boot loaders leave free (checked against the memory map at run time),
 * and the AP stacks' size, which the start-up code needs too. */
#ifndef ARCH_SMP_LAYOUT_H
#define ARCH_SMP_LAYOUT_H

#define TRAMP_BASE	0x8000
/* Each AP's stack; the trampoline picks the next one (a power of two). */
#define AP_STACK_SHIFT	14
#define AP_STACK_SIZE	(1 << AP_STACK_SHIFT)

#endif

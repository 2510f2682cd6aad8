/* Where the AP start-up code runs: a page below 1 MiB that the BIOS and
 * boot loaders leave free (checked against the memory map at run time). */
#ifndef ARCH_SMP_LAYOUT_H
#define ARCH_SMP_LAYOUT_H

#define TRAMP_BASE	0x8000

#endif

/* fwdump: the raw firmware data the boot parsers read (multiboot info and
 * what it points to, the EBDA pointer, RSDP, RSDT/XSDT and every table
 * they list), hexdumped over the console for the fuzz seed corpora
 * (tests/fuzz/fwdump.py turns the dump into seed files). */
#ifndef BOOT_FWDUMP_H
#define BOOT_FWDUMP_H

#include "lib/types.h"

struct boot_info;
struct acpi_info;

/*
 * Prints "# fwdump: begin KIND 0xADDR LEN", the bytes as hex lines of up
 * to 32 bytes ("# fwdump: 0011..."), and "# fwdump: end" for each blob.
 * KIND is mb1-info, mb1-cmdline, mb1-loader, mb1-mmap, mb2-info,
 * ebda-ptr, rsdp, rsdp-copy (the multiboot2 loader's copy, address 0)
 * or table. Reads only what maps, each blob at most 64 KiB; never
 * validates (that is the parsers' job, and a bad blob is worth dumping).
 */
void fwdump(u32 magic, u32 info, const struct boot_info *bi, const struct acpi_info *ai);

#endif

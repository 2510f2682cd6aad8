/* What cpu.h's accessors keep between calls: the count of device accesses
 * (port I/O, MMIO, MSRs) since boot, per kind. */
#include "cpu.h"

u64 io_counts[IO_KINDS];

/* console= values in Linux's syntax, parsed into a UART to probe. */
#ifndef BOOT_CONSOLE_SPEC_H
#define BOOT_CONSOLE_SPEC_H

#include "drivers/serial.h"

#define CONSOLE_DEFAULT_BAUD	115200

/*
 * Parses one console= value: "ttyS0".."ttyS3" with an optional ",baud"
 * (a trailing "n8" and the like is accepted and ignored: always 8N1), or
 * "uart[8250],io|mmio|mmio32,ADDR[,baud]" as Linux's earlycon names a UART
 * by address. Returns 1 and fills *p, 0 for "none", -EINVAL (why says
 * what is wrong) for anything else.
 */
int console_spec_parse(const char *spec, struct serial_port *p, const char **why);

#endif

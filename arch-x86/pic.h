/* The legacy 8259 pair: remapped away from the exception vectors and
 * masked, since all our interrupts go through the (IO)APICs. */
#ifndef ARCH_PIC_H
#define ARCH_PIC_H

#define PIC1_CMD	0x20
#define PIC1_DATA	0x21
#define PIC2_CMD	0xA0
#define PIC2_DATA	0xA1
#define PIC_EOI		0x20

/* Remaps IRQ0-15 to VEC_PIC_BASE..+15 and masks every line. */
void pic_disable(void);

#endif

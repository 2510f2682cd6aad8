/* Remaps and masks the legacy 8259 pair. It must not unmask a line: every
 * interrupt goes through the (IO)APICs. */
#include "pic.h"
#include "cpu.h"
#include "vectors.h"

void pic_disable(void)
{
	/* ICW1: init, ICW4 follows. ICW2: vector base. ICW3: cascade on
	 * IRQ2. ICW4: 8086 mode. Then mask everything. Even masked, a PIC
	 * can raise spurious IRQ7/15, which is why it is remapped at all. */
	outb(PIC1_CMD, 0x11);
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, VEC_PIC_BASE);
	outb(PIC2_DATA, VEC_PIC_BASE + 8);
	outb(PIC1_DATA, 4);
	outb(PIC2_DATA, 2);
	outb(PIC1_DATA, 0x01);
	outb(PIC2_DATA, 0x01);
	outb(PIC1_DATA, 0xFF);
	outb(PIC2_DATA, 0xFF);
}

/* How the 256 interrupt vectors are laid out. Its own header so that the
 * interrupt controllers (lapic.c, pic.c) and the IDT code (idt.c) can
 * share it without including each other. */
#ifndef ARCH_VECTORS_H
#define ARCH_VECTORS_H

#define VEC_PIC_BASE	0x20	/* 8259s remapped here, all masked */
#define VEC_DYN_FIRST	0x30	/* irq_alloc_vector hands these out */
#define VEC_DYN_LAST	0xEF
#define VEC_SPURIOUS	0xFF	/* LAPIC spurious vector */

#endif

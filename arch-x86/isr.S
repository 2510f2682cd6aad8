/*
 * 256 interrupt entry stubs, 16 bytes apart (the IDT is filled from
 * isr_stubs + 16 * vector). Each pushes a zero where the CPU pushes no
 * error code, then the vector, and joins the common path, which saves
 * every general register into a struct int_frame and calls
 * interrupt_dispatch(frame).
 * All policy is in C (interrupt_dispatch, the runner): this file must not
 * decide anything, only save and restore state.
 */
	.text
	.align 16
	.global isr_stubs
isr_stubs:
	.set vec, 0
	.rept 256
	.align 16
	.if (vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30)
	.else
	pushq $0
	.endif
	pushq $vec
	jmp isr_common
	.set vec, vec + 1
	.endr

isr_common:
	push %rax
	push %rcx
	push %rdx
	push %rbx
	push %rbp
	push %rsi
	push %rdi
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, %rdi
	cld
	call interrupt_dispatch
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rdi
	pop %rsi
	pop %rbp
	pop %rbx
	pop %rdx
	pop %rcx
	pop %rax
	add $16, %rsp		/* vector and error code */
	iretq

/*
 * int ctx_save(struct jmp_ctx *c): saves the callee-saved registers, the
 * stack pointer and the return address; returns 0. ctx_restore(c, v)
 * resumes there with ctx_save returning v (non-zero). Used to abandon a
 * test that faulted or hung; the abandoned frames are simply dropped.
 */
	.global ctx_save
ctx_save:
	mov %rbx, 0(%rdi)
	mov %rbp, 8(%rdi)
	mov %r12, 16(%rdi)
	mov %r13, 24(%rdi)
	mov %r14, 32(%rdi)
	mov %r15, 40(%rdi)
	lea 8(%rsp), %rax
	mov %rax, 48(%rdi)
	mov (%rsp), %rax
	mov %rax, 56(%rdi)
	xor %eax, %eax
	ret

	.global ctx_restore
ctx_restore:
	mov 0(%rdi), %rbx
	mov 8(%rdi), %rbp
	mov 16(%rdi), %r12
	mov 24(%rdi), %r13
	mov 32(%rdi), %r14
	mov 40(%rdi), %r15
	mov 48(%rdi), %rsp
	mov %esi, %eax
	jmp *56(%rdi)

/*
 * Entering and leaving CPL 3 for usermode_run (usermode.c; this file is named apart from it so that the two objects
 * do not collide). The way in is
 * an IRETQ; the way out is a UD2 at a known address, which the #UD entry
 * (user_ud_entry, IDT vector 6) recognises and turns into a return from
 * usermode_enter. Every other #UD goes on to the ordinary exception stub.
 * This file must not decide anything: usermode.c chooses when to enter.
 */
	.text

/*
 * u64 usermode_enter(fn, arg, user_rsp, rflags, rsp0_slot): saves the
 * callee-saved registers and RFLAGS (the way out comes through an
 * interrupt gate, which clears IF), stores the kernel stack pointer in *rsp0_slot
 * (the TSS's RSP0: an interrupt taken at CPL 3 runs on the kernel stack
 * below this frame) and in usermode_ksp, and enters user_entry at CPL 3.
 */
	.global usermode_enter
usermode_enter:
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	pushfq
	mov %rsp, usermode_ksp(%rip)
	mov %rsp, (%r8)
	pushq $0x2B		/* SS: user data, RPL 3 (USER_DS) */
	pushq %rdx		/* RSP */
	pushq %rcx		/* RFLAGS */
	pushq $0x33		/* CS: user code, RPL 3 (USER_CS) */
	lea user_entry(%rip), %rax
	pushq %rax
	iretq

/* At CPL 3: fn(arg), then the way out. */
user_entry:
	mov %rdi, %rax
	mov %rsi, %rdi
	call *%rax
	.global user_exit_ud2
user_exit_ud2:
	ud2

/*
 * IDT vector 6. A #UD at user_exit_ud2 from CPL 3 is the way out: back to
 * usermode_enter's frame with fn's value in RAX. Anything else is a real
 * #UD: on to its ordinary stub, registers untouched.
 */
	.global user_ud_entry
user_ud_entry:
	testb $3, 8(%rsp)		/* CS */
	jz 1f
	push %rax
	lea user_exit_ud2(%rip), %rax
	cmp %rax, 8(%rsp)		/* RIP */
	pop %rax
	jne 1f
	mov usermode_ksp(%rip), %rsp
	mov $0x10, %ecx
	mov %ecx, %ds
	mov %ecx, %es
	mov %ecx, %ss
	popfq
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret
1:	jmp isr_stubs + 16 * 6

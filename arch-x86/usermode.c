/* usermode_run: pure computation at CPL 3 (see usermode.h). It must not
 * decide what runs there: callers pass fn through lib/offload. */
#include "usermode.h"
#include "idt.h"
#include "percpu.h"

#define USER_STACK_SIZE	65536
#define RFLAGS_IF	(1ull << 9)
#define RFLAGS_FIXED	(1ull << 1)

u64 usermode_enter(offload_fn fn, void *arg, u64 user_rsp, u64 rflags, void *rsp0_slot);

static u8 user_stack[USER_STACK_SIZE] NOINIT __attribute__((aligned(16)));
/* The kernel stack pointer of the call at CPL 3 now (user_entry.S). */
u64 usermode_ksp;
static bool armed;
/* The kernel stack pointer where the call now at CPL 3 was made, or 0.
 * A call from deeper (below it: an interrupt handler that interrupted
 * that call) must not reuse the user stack; one from above it means that
 * call was abandoned (a watchdog's ctx_restore) and the stack is free. */
static u64 busy_sp;

void usermode_init(void)
{
	armed = true;
}

u64 usermode_run(offload_fn fn, void *arg)
{
	u64 sp = (u64)(uintptr_t)__builtin_frame_address(0), flags, r;
	u16 cs;

	/* Already at CPL 3 (an offloaded function offloading again): on. */
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	if ((cs & 3) || !armed || this_cpu() != 0 || (busy_sp && sp < busy_sp))
		return fn(arg);
	__asm__ volatile("pushfq; popq %0" : "=r"(flags));
	busy_sp = sp;
	r = usermode_enter(fn, arg, (u64)(uintptr_t)(user_stack + USER_STACK_SIZE),
			   (flags & RFLAGS_IF) | RFLAGS_FIXED, idt_rsp0_slot());
	busy_sp = 0;
	return r;
}

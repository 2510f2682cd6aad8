/* The offload hook (see offload.h). It must stay pure: the runner that
 * changes privilege is arch-x86's, registered at boot. */
#include "offload.h"

static offload_runner runner;

void offload_set(offload_runner run)
{
	runner = run;
}

u64 offload(offload_fn fn, void *arg)
{
	return runner ? runner(fn, arg) : fn(arg);
}

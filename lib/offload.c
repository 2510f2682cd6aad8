/* The offload hook (see offload.h). It must stay pure: the runner that
 * changes privilege is arch-x86's, registered at boot. */
#include "offload.h"

static offload_runner runner;

offload_runner offload_set(offload_runner run)
{
	offload_runner was = runner;

	runner = run;
	return was;
}

u64 offload(offload_fn fn, void *arg)
{
	return runner ? runner(fn, arg) : fn(arg);
}

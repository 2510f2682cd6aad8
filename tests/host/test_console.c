/* The console multiplexer (lib/console.c) with fake sinks: the standby
 * sink is silent while a registered sink is live, takes over from the
 * write during which the last one gave up (which it may resend to it
 * through console_write_standby), is named by console_outputs only then,
 * and console_flush reaches every sink that has a flush. It must use only
 * HOST_LIB code (ASan/UBSan build). */
#include "tests/host/check.h"
#include "lib/console.h"

struct fake {
	struct console_sink sink;	/* first: the sink leads back here */
	char got[256];
	size_t len;
	bool live;
	int die_at;		/* the write that gives up (1-based), 0 = never */
	int writes;
	int flushes;
};

static void fake_write(const struct console_sink *self, const char *s, size_t n)
{
	struct fake *f = (struct fake *)self;

	if (!f->live)
		return;
	if (++f->writes == f->die_at) {
		f->live = false;
		/* What a driver does on giving up: warn, then resend. */
		kprintf("# warning\n");
		console_write_standby("old\n", 4);
		return;
	}
	memcpy(f->got + f->len, s, n);
	f->len += n;
	f->got[f->len] = 0;
}

static bool fake_live(const struct console_sink *self)
{
	return ((const struct fake *)self)->live;
}

static void fake_flush(const struct console_sink *self)
{
	((struct fake *)self)->flushes++;
}

static struct fake vcon = { .sink = { "virtio", fake_write, NULL, fake_live, fake_flush },
			    .live = true, .die_at = 3 };
static struct fake uart = { .sink = { "serial", fake_write, NULL, fake_live, NULL },
			    .live = true };

int main(void)
{
	CHECK(console_register(&vcon.sink) == 0);
	CHECK(console_register_standby(&uart.sink) == 0);
	CHECK_STR(console_outputs(), "virtio");

	kprintf("a\n");
	kprintf("b\n");
	console_flush();
	CHECK(vcon.flushes == 1);
	CHECK_STR(vcon.got, "a\nb\n");
	CHECK_STR(uart.got, "");
	/* Third write: the virtio sink gives up during it. */
	kprintf("c\n");
	kprintf("d\n");
	CHECK_STR(vcon.got, "a\nb\n");
	CHECK_STR(uart.got, "# warning\nold\nc\nd\n");
	CHECK_STR(console_outputs(), "serial");
	/* A dead sink's flush is its own business; the standby has none. */
	console_flush();
	CHECK(vcon.flushes == 2 && uart.flushes == 0);
	return check_report("console");
}

# tickscope: `make` builds the kernel, `make iso` the GRUB ISO, `make run`
# boots the default report, `make test` runs host unit tests and the boot
# matrix, `make bench` the benchmarks, `make deps` installs build tools,
# `make layers` checks the include graph against LAYERS.

BUILD    := build
KERNEL   := $(BUILD)/tickscope.elf
ISO      := $(BUILD)/tickscope.iso
CC       := gcc
PYTHON   := python3
# The host tool's package (tools/tickhost) run as modules: $(HOSTPY) tickhost.x
HOSTPY   := PYTHONPATH=$(CURDIR)/tools $(PYTHON) -m

KCFLAGS  := -std=gnu11 -O2 -g -ffreestanding -fno-pic -fno-pie -mno-red-zone \
	    -mgeneral-regs-only -mcmodel=small -fno-stack-protector \
	    -fno-asynchronous-unwind-tables -fno-omit-frame-pointer \
	    -Wall -Wextra -Werror -Wa,--noexecstack -I.
KLDFLAGS := -nostdlib -static -no-pie -Wl,-T,boot/linker.ld \
	    -Wl,-z,max-page-size=0x1000 -Wl,--no-warn-rwx-segments -Wl,--build-id=none

# The kernel's layers, lowest first (docs/ARCHITECTURE.md): a file may
# include headers of its own layer or of lower ones, never of higher ones.
LAYERS := lib arch-x86 tick drivers measure report tests boot
KSRC := $(sort $(wildcard $(addsuffix /*.c,$(LAYERS))))
KASM := $(wildcard boot/*.S arch-x86/*.S)
KOBJ := $(patsubst %.c,$(BUILD)/%.o,$(KSRC)) $(patsubst %.S,$(BUILD)/%.o,$(KASM))

# Pure logic compiled for the host and unit-tested under ASan and UBSan.
HOST_LIB   := lib/phys.c lib/printf.c lib/str.c lib/stats.c lib/cmdline.c lib/gaps.c boot/multiboot.c \
	      arch-x86/acpi.c tick/timer.c tick/timekeeping.c tick/clocksource.c
HOST_TESTS := $(wildcard tests/host/test_*.c)
HCFLAGS    := -std=gnu11 -O1 -g -DHOST_TEST -I. -Wall -Wextra -Werror \
	      -fsanitize=address,undefined -fno-sanitize-recover=all

# Build tools a fresh machine needs (Debian package names).
DEPS_PKGS := build-essential qemu-system-x86 qemu-utils grub-pc-bin grub-efi-amd64-bin \
	     grub-common xorriso mtools ovmf python3

.PHONY: all iso run test unit bench clean deps check-deps layers

all: $(KERNEL)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(KCFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/%.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	@$(CC) $(KCFLAGS) -MMD -MP -c $< -o $@

$(KERNEL): $(KOBJ) boot/linker.ld
	@echo "  LD      $@"
	@$(CC) $(KCFLAGS) $(KLDFLAGS) $(KOBJ) -o $@

iso: $(ISO)

$(ISO): $(KERNEL) iso/grub.cfg
	@rm -rf $(BUILD)/isodir
	@mkdir -p $(BUILD)/isodir/boot/grub
	@cp $(KERNEL) $(BUILD)/isodir/boot/tickscope.elf
	@cp iso/grub.cfg $(BUILD)/isodir/boot/grub/grub.cfg
	@echo "  ISO     $@"
	@grub-mkrescue -o $@ $(BUILD)/isodir 2>$(BUILD)/grub-mkrescue.log || \
		{ cat $(BUILD)/grub-mkrescue.log; exit 1; }

# Installs missing packages when root; otherwise says what to install.
deps:
	@$(HOSTPY) tickhost.deps --install $(DEPS_PKGS)

check-deps:
	@command -v $(PYTHON) >/dev/null || { echo "python3 is missing: apt-get install python3"; exit 1; }
	@$(HOSTPY) tickhost.deps --install $(DEPS_PKGS)

run: check-deps $(KERNEL)
	$(PYTHON) tools/tickscope run --kernel $(KERNEL) $(RUNARGS)

$(BUILD)/host/%: tests/host/%.c $(HOST_LIB) $(wildcard lib/*.h boot/*.h arch-x86/*.h tests/host/*.h)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	@$(CC) $(HCFLAGS) $< $(HOST_LIB) -o $@

HOST_BINS := $(patsubst tests/host/%.c,$(BUILD)/host/%,$(HOST_TESTS))

unit: $(HOST_BINS)
	$(HOSTPY) tickhost.testsuite --unit-only $(HOST_BINS)

test: check-deps $(KERNEL) $(ISO) $(HOST_BINS)
	$(HOSTPY) tickhost.testsuite --kernel $(KERNEL) --iso $(ISO) $(HOST_BINS)

# The include graph against LAYERS: every include points down, no circle of
# units (tools/tickhost/layers.py; make test runs it too).
layers:
	@$(HOSTPY) tickhost.layers

# The timer-queue benchmark, without sanitizers.
$(BUILD)/host/bench_tick: tests/host/test_tick.c $(HOST_LIB)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	@$(CC) -std=gnu11 -O2 -DHOST_TEST -I. $< $(HOST_LIB) -o $@

bench: check-deps $(KERNEL) $(BUILD)/host/bench_tick
	$(BUILD)/host/bench_tick bench
	$(HOSTPY) tickhost.bench --kernel $(KERNEL)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

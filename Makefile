# tickscope: `make` builds the kernel, `make iso` the GRUB ISO, `make run`
# boots the default report, `make test` runs host unit tests and the boot
# matrix, `make bench` the benchmarks (`make bench-speed` boot to verdict
# alone), `make soak` repeats configurations under
# load, `make faults` runs the planted faults twenty times, `make deps`
# installs build tools, `make layers` checks the include graph against LAYERS.

BUILD    := build
KERNEL   := $(BUILD)/tickscope.elf
PVH_KERNEL := $(BUILD)/tickscope-pvh.elf
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
KOBJ := $(patsubst %.c,$(BUILD)/%.o,$(KSRC)) $(patsubst %.S,$(BUILD)/%.o,$(KASM)) \
	$(BUILD)/gen/font.o

# The screen font, converted at build time from the Debian console font
# that tools/tickhost/font.py names (package console-setup-linux); the
# screen check decodes screendumps with the same module.
FONT_PY := tools/tickhost/font.py

# Pure logic compiled for the host and unit-tested under ASan and UBSan.
HOST_LIB   := lib/console.c lib/offload.c lib/phys.c lib/printf.c lib/str.c lib/stats.c lib/fit.c lib/cmdline.c lib/gaps.c \
	      boot/multiboot.c arch-x86/acpi.c arch-x86/acpi_sys.c boot/console_spec.c tick/timer.c \
	      tick/timekeeping.c tick/clocksource.c tick/clockevent.c measure/calfit.c \
	      tick/broadcast.c drivers/hpet_cmp.c arch-x86/paging.c
HOST_TESTS := $(wildcard tests/host/test_*.c)
HCFLAGS    := -std=gnu11 -O1 -g -DHOST_TEST -I. -Wall -Wextra -Werror \
	      -fsanitize=address,undefined -fno-sanitize-recover=all

# Build tools a fresh machine needs (Debian package names). make test's KTAP
# conformance check reads logs with Linux's kunit_parser (linux-source-6.1),
# tap-parser (npm installs it into build/npm) and prove (perl); the HTML
# report is checked in headless Chromium (chromium).
DEPS_PKGS := build-essential qemu-system-x86 qemu-utils grub-pc-bin grub-efi-amd64-bin \
	     grub-common xorriso mtools ovmf python3 python3-hypothesis console-setup-linux \
	     bochs bochsbios vgabios bochs-term linux-source-6.1 npm perl chromium

.PHONY: all iso run test unit bench bench-speed soak faults clean deps check-deps layers lava

all: $(KERNEL) $(PVH_KERNEL)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(KCFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/gen/font.c: $(FONT_PY)
	@mkdir -p $(dir $@)
	@echo "  FONT    $@"
	@$(HOSTPY) tickhost.font --c > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/font.o: $(BUILD)/gen/font.c
	@echo "  CC      $<"
	@$(CC) $(KCFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/%.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	@$(CC) $(KCFLAGS) -MMD -MP -c $< -o $@

$(KERNEL): $(KOBJ) boot/linker.ld
	@echo "  LD      $@"
	@$(CC) $(KCFLAGS) $(KLDFLAGS) $(KOBJ) -o $@

# The counting build (IO_COUNT, arch-x86/cpu.h): every device access
# counted, for make bench's run.reads.* figures. Its read paths carry the
# count, so its read costs are not the default kernel's.
COUNT_KERNEL := $(BUILD)/count/tickscope.elf
COUNT_KOBJ := $(patsubst %.c,$(BUILD)/count/%.o,$(KSRC)) \
	      $(patsubst %.S,$(BUILD)/count/%.o,$(KASM)) $(BUILD)/gen/font.o

$(BUILD)/count/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(CC) $(KCFLAGS) -DIO_COUNT -MMD -MP -c $< -o $@

$(BUILD)/count/%.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $@"
	@$(CC) $(KCFLAGS) -DIO_COUNT -MMD -MP -c $< -o $@

$(COUNT_KERNEL): $(COUNT_KOBJ) boot/linker.ld
	@echo "  LD      $@"
	@$(CC) $(KCFLAGS) $(KLDFLAGS) $(COUNT_KOBJ) -o $@

# The same kernel with its multiboot1 header blanked (zeros of the same
# size, so nothing moves): QEMU's -kernel loader tries multiboot1 before
# the PVH note, so this is the image that boots through PVH there.
# Loaders that only know PVH (Firecracker, Cloud Hypervisor) take either.
$(PVH_KERNEL): $(KERNEL)
	@echo "  PVH     $@"
	@objcopy --dump-section .multiboot1=$@.mb1 $<
	@head -c $$(stat -c %s $@.mb1) /dev/zero > $@.mb1
	@objcopy --update-section .multiboot1=$@.mb1 $< $@
	@rm -f $@.mb1

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

run: check-deps $(KERNEL) $(PVH_KERNEL)
	$(PYTHON) tools/tickscope run --kernel $(KERNEL) $(RUNARGS)

$(BUILD)/host/%: tests/host/%.c $(HOST_LIB) $(wildcard lib/*.h boot/*.h arch-x86/*.h tests/host/*.h \
		  tick/*.h measure/*.h drivers/kvmclock.h drivers/hyperv.h drivers/hpet_cmp.h \
		  tests/read_window.[ch] tests/select.[ch])
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	@$(CC) $(HCFLAGS) $< $(HOST_LIB) -o $@

HOST_BINS := $(patsubst tests/host/%.c,$(BUILD)/host/%,$(HOST_TESTS))

unit: $(HOST_BINS)
	$(HOSTPY) tickhost.testsuite --unit-only $(HOST_BINS)

test: check-deps $(KERNEL) $(PVH_KERNEL) $(ISO) $(HOST_BINS)
	$(HOSTPY) tickhost.testsuite --kernel $(KERNEL) --iso $(ISO) $(HOST_BINS)

# The jobs of tools/lava/ (QEMU; x86 through iPXE, the board a QEMU) run by
# Debian's lava-dispatcher (installed here when missing) with `lava-run`:
# every result of the serial report must be in LAVA's results with its
# verdict, every measurement with its value (tools/tickhost/lava.py; the
# logs go to build/lava/).
lava: check-deps $(KERNEL)
	$(HOSTPY) tickhost.lava --kernel $(KERNEL)

# The include graph against LAYERS: every include points down, no circle of
# units (tools/tickhost/layers.py; make test runs it too).
layers:
	@$(HOSTPY) tickhost.layers

# The timer-queue benchmark, without sanitizers.
$(BUILD)/host/bench_tick: tests/host/test_tick.c $(HOST_LIB)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	@$(CC) -std=gnu11 -O2 -DHOST_TEST -I. $< $(HOST_LIB) -o $@

bench: check-deps $(KERNEL) $(PVH_KERNEL) $(COUNT_KERNEL) $(ISO) $(BUILD)/host/bench_tick
	$(BUILD)/host/bench_tick bench
	$(HOSTPY) tickhost.bench --kernel $(KERNEL) --count-kernel $(COUNT_KERNEL) --iso $(ISO)
	@echo "== fuzz: executions per second and coverage, $(FUZZ_BENCH_SECONDS) s per target"
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_BENCH_SECONDS) \
		$(foreach t,$(FUZZ_TARGETS),FUZZ_SECONDS_$(t)=$(FUZZ_BENCH_SECONDS))

# Only boot to verdict (per suite time and device reads, median of
# SPEED_RUNS default runs under TCG and KVM) and the boot paths.
SPEED_RUNS ?= 10
bench-speed: check-deps $(KERNEL) $(COUNT_KERNEL) $(ISO)
	$(HOSTPY) tickhost.bench --kernel $(KERNEL) --count-kernel $(COUNT_KERNEL) --iso $(ISO) \
		--speed-only --speed-runs $(SPEED_RUNS)

# The matrix entries marked `soak = yes|test` (or SOAK_ONLY=glob,glob),
# SOAK_RUNS runs each beside SOAK_LOAD looping default boots; fails when a
# device verdict differed. Every run and the tallies go to build/soak.json.
SOAK_RUNS ?= 20
SOAK_LOAD ?= 1
SOAK_ONLY ?=
soak: check-deps $(KERNEL) $(PVH_KERNEL)
	$(PYTHON) tools/tickscope soak --kernel $(KERNEL) --runs $(SOAK_RUNS) --load $(SOAK_LOAD) \
		--only "$(SOAK_ONLY)" --json $(BUILD)/soak.json

# Every planted fault of tools/faults.cfg FAULT_RUNS times: N/N as planted.
FAULT_RUNS ?= 20
faults: check-deps $(KERNEL)
	$(PYTHON) tools/tickscope faults --kernel $(KERNEL) --runs $(FAULT_RUNS)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---- Fuzzing (tests/fuzz/README.md) ----
# libFuzzer targets over the parsers of multiboot info, ACPI tables and
# the command line, built from HOST_LIB with ASan and UBSan. `make fuzz`
# runs each for FUZZ_SECONDS and saves a crashing input into its corpus;
# `make test` and `make unit` replay every corpus with gcc (no clang).
FUZZ_PKGS    := clang libfuzzer-14-dev libclang-rt-14-dev
FUZZ_CC      := clang
FUZZ_SECONDS := 45
# Per target in make bench: a rate, not a hunt.
FUZZ_BENCH_SECONDS := 10
# The ACPI walker scans the 128 KiB BIOS area for the RSDP on most inputs,
# and the command line is many string comparisons: under libFuzzer's
# comparison tracing they run 10-20x fewer inputs per second.
FUZZ_SECONDS_acpi := 300
FUZZ_SECONDS_cmdline := 90
FUZZ_TARGETS := mb1 mb2 pvh acpi madt fadt hpet cmdline
FUZZ_DEPS    := $(HOST_LIB) $(wildcard tests/fuzz/*.c tests/fuzz/*.h lib/*.h boot/*.h arch-x86/*.h) \
		tests/fuzz/coverage-ignore.txt
FUZZ_CFLAGS  := -std=gnu11 -O1 -g -DHOST_TEST -I. -Wall -Wextra -Werror \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-fsanitize-coverage-ignorelist=tests/fuzz/coverage-ignore.txt

FUZZ_SRC_mb1     := tests/fuzz/fuzz_mb.c tests/fuzz/image.c
FUZZ_DEF_mb1     := -DFUZZ_MAGIC=MB1_BOOT_MAGIC
FUZZ_SRC_mb2     := tests/fuzz/fuzz_mb.c tests/fuzz/image.c
FUZZ_DEF_mb2     := -DFUZZ_MAGIC=MB2_BOOT_MAGIC
FUZZ_SRC_pvh     := tests/fuzz/fuzz_mb.c tests/fuzz/image.c
FUZZ_DEF_pvh     := -DFUZZ_MAGIC=PVH_BOOT_MAGIC
FUZZ_SRC_acpi    := tests/fuzz/fuzz_acpi.c tests/fuzz/image.c
FUZZ_SRC_madt    := tests/fuzz/fuzz_table.c
FUZZ_DEF_madt    := -DFUZZ_TABLE='"APIC"'
FUZZ_SRC_fadt    := tests/fuzz/fuzz_table.c
FUZZ_DEF_fadt    := -DFUZZ_TABLE='"FACP"'
FUZZ_SRC_hpet    := tests/fuzz/fuzz_table.c
FUZZ_DEF_hpet    := -DFUZZ_TABLE='"HPET"'
FUZZ_SRC_cmdline := tests/fuzz/fuzz_cmdline.c

FUZZ_BINS   := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)
REPLAY_BINS := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/replay_%)

$(BUILD)/fuzz/fuzz_%: $(FUZZ_DEPS)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_DEF_$*) $(FUZZ_SRC_$*) $(HOST_LIB) -o $@

# The replay driver: gcc, the unit tests' sanitizer flags, no libFuzzer.
$(BUILD)/fuzz/replay_%: $(FUZZ_DEPS)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	@$(CC) $(HCFLAGS) $(FUZZ_DEF_$*) -DFUZZ_NAME='"replay_$*"' \
		-DFUZZ_CORPUS='"$(CURDIR)/tests/fuzz/corpus/$*"' \
		tests/fuzz/replay.c $(FUZZ_SRC_$*) $(HOST_LIB) -o $@

HOST_BINS += $(REPLAY_BINS)
unit test: $(REPLAY_BINS)

.PHONY: fuzz fuzz-deps fuzz-build fuzz-cov
fuzz-deps:
	@$(HOSTPY) tickhost.deps --install $(FUZZ_PKGS)

fuzz-build: $(FUZZ_BINS)

# FUZZ_SECONDS per target, FUZZ_SECONDS_<target> for one (~10 min in all;
# the defaults reach 10^6 executions on each with half a core to spare),
# then one line per target: executions, exec/s, coverage, crashes.
fuzz: fuzz-deps
	@$(MAKE) --no-print-directory fuzz-build
	$(PYTHON) tests/fuzz/run.py --seconds $(FUZZ_SECONDS) --bin-dir $(BUILD)/fuzz \
		$(foreach t,$(FUZZ_TARGETS),$(if $(FUZZ_SECONDS_$(t)),--seconds-for $(t)=$(FUZZ_SECONDS_$(t)))) \
		$(FUZZ_TARGETS)

# Line coverage of each parser by its corpus (build/fuzz/work and
# tests/fuzz/corpus), from gcc --coverage replays: no clang needed.
$(BUILD)/fuzz/cov/%/replay: $(FUZZ_DEPS)
	@rm -rf $(dir $@) && mkdir -p $(dir $@)
	@echo "  HOSTCC  $@ (coverage)"
	@cd $(dir $@) && $(CC) -std=gnu11 -O0 -DHOST_TEST -DFUZZ_GCOV -I$(CURDIR) --coverage \
		$(FUZZ_DEF_$*) $(addprefix $(CURDIR)/,tests/fuzz/replay.c $(FUZZ_SRC_$*) $(HOST_LIB)) \
		-o replay

fuzz-cov: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/cov/%/replay)
	$(PYTHON) tests/fuzz/linecov.py --cov-dir $(BUILD)/fuzz/cov $(FUZZ_TARGETS)

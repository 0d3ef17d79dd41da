# tcpvitals build. `make V=1` shows every command.
ARCH := $(shell uname -m)
BPF_ARCH := $(subst x86_64,x86,$(subst aarch64,arm64,$(ARCH)))
VMLINUX := vmlinux/$(ARCH)/vmlinux.h
BUILD := build
CLANG ?= clang
LLVM_STRIP ?= llvm-strip
BPFTOOL ?= $(shell command -v bpftool || echo /usr/sbin/bpftool)
CC ?= cc
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Ibpf -I$(BUILD) -Iuser -D_GNU_SOURCE
# The metrics endpoint (--metrics) is libmicrohttpd's; the static build has
# none (see static below).
LDLIBS := -lbpf -lelf -lz -lssl -lcrypto -lpthread -lcap-ng -lmicrohttpd
MHD_CFLAGS := -DTV_HAVE_MHD
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.1.0)
CFLAGS += -DTV_VERSION='"$(VERSION)"'

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

USER_SRCS := $(filter-out user/main.c,$(wildcard user/*.c))
USER_OBJS := $(patsubst user/%.c,$(BUILD)/%.o,$(USER_SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

.PHONY: all deps vmlinux test unit integration run demo install clean bench bench-readme fuzz static dist vmtest
all: $(BUILD)/tcpvitals

# Installs missing build and test dependencies on Debian/Ubuntu (needs root).
deps: $(BUILD)/.deps
$(BUILD)/.deps: tools/deps.sh | $(BUILD)
	$(Q)bash tools/deps.sh && touch $@

$(BUILD) $(BUILD)/tests:
	$(Q)mkdir -p $@

$(BUILD)/tcpvitals.bpf.o: bpf/tcpvitals.bpf.c $(wildcard bpf/*.h) $(VMLINUX) $(BUILD)/.deps | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -Ivmlinux/$(ARCH) -Ibpf -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(BUILD)/tcpvitals.skel.h: $(BUILD)/tcpvitals.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name tcpvitals_bpf > $@

$(BUILD)/%.o: user/%.c $(wildcard user/*.h) bpf/tcpvitals.h bpf/hooks.h $(BUILD)/tcpvitals.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(if $(filter $@,$(BUILD)/metrics.o),$(MHD_CFLAGS)) -c $< -o $@

$(BUILD)/tcpvitals: $(BUILD)/main.o $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# One self-contained binary (libbpf, libelf, zlib and OpenSSL linked in; the
# BPF object is embedded as always): it needs nothing on the target but a
# kernel with BTF. glibc warns about name lookups and dlopen in OpenSSL that
# the checks never use (they connect to an address): those lines are left out.
# libmicrohttpd needs GnuTLS, which cannot be linked statically here: the
# static binary has --metrics-file but no --metrics endpoint.
STATIC_LIBS := -lbpf -lelf -lz -lssl -lcrypto -lpthread -ldl -lcap-ng
STATIC_NOISE := -e 'in statically linked applications requires at runtime' -e ': in function'
$(BUILD)/static/metrics.o: user/metrics.c $(wildcard user/*.h) bpf/tcpvitals.h
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@
$(BUILD)/static/tcpvitals: $(BUILD)/main.o $(filter-out $(BUILD)/metrics.o,$(USER_OBJS)) $(BUILD)/static/metrics.o
	$(Q)mkdir -p $(@D)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -static $^ $(STATIC_LIBS) -o $@ 2>$@.log || { cat $@.log; exit 1; }
	$(Q)grep -v $(STATIC_NOISE) $@.log || true
	$(Q)strip --strip-debug $@

static: $(BUILD)/static/tcpvitals

# A tarball to copy to a host: the static binary, the man page, the jq
# recipes, the README, and their SHA256SUMS.
DIST := $(BUILD)/dist/tcpvitals-$(VERSION)-$(ARCH)
dist: $(BUILD)/static/tcpvitals $(BUILD)/tcpvitals.service
	$(Q)rm -rf $(DIST) && mkdir -p $(DIST)/jq
	$(Q)cp $(BUILD)/static/tcpvitals tools/tcpvitals.8 README.md $(BUILD)/tcpvitals.service $(DIST)/
	$(Q)cp tools/jq/*.jq $(DIST)/jq/
	$(Q)cd $(DIST) && sha256sum tcpvitals tcpvitals.8 README.md tcpvitals.service jq/*.jq > SHA256SUMS
	$(Q)tar -C $(BUILD)/dist -czf $(DIST).tar.gz $(notdir $(DIST))
	$(call msg,DIST,$(DIST).tar.gz)

# The static binary on Debian's kernels, booted in QEMU: make vmtest [KERNEL="5.10 6.1 6.12"]
KERNEL ?= 5.10 6.1 6.12
vmtest: $(BUILD)/static/tcpvitals $(BUILD)/.deps
	$(Q)bash tools/vmtest.sh $(KERNEL)

# Unit tests build the collector's sources again under AddressSanitizer and UBSan.
SANITIZE := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
$(BUILD)/tests/%: tests/unit/%.c tests/unit/unit.h $(USER_SRCS) $(wildcard user/*.h) $(BUILD)/tcpvitals.skel.h | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(SANITIZE) -Itests/unit $< $(USER_SRCS) $(LDLIBS) $(TEST_LDFLAGS) -o $@

# Fault injection: these calls fail on the test's command.
$(BUILD)/tests/test_faults: TEST_LDFLAGS = -Wl,--wrap=bpf_map__update_elem -Wl,--wrap=pthread_create \
	-Wl,--wrap=pthread_join

# Coverage-guided fuzzing of the ClientHello parser: make fuzz [FUZZ_SECONDS=60]
FUZZ_SECONDS ?= 60
$(BUILD)/fuzz_tls_hello: tests/fuzz/fuzz_tls_hello.c user/tls_hello.c user/tls_hello.h | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -Iuser $< user/tls_hello.c -o $@
fuzz: $(BUILD)/fuzz_tls_hello
	$(Q)mkdir -p $(BUILD)/fuzz-corpus && cp tests/unit/data/hello_*.bin $(BUILD)/fuzz-corpus/
	$(Q)$(BUILD)/fuzz_tls_hello -max_total_time=$(FUZZ_SECONDS) -max_len=4096 $(BUILD)/fuzz-corpus

# Regenerate the shipped vmlinux.h from the running kernel's BTF.
vmlinux:
	$(Q)mkdir -p vmlinux/$(ARCH)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX)

unit: $(UNIT_BINS)

# Unit tests run as anyone; the integration tests need root (and run in CI).
test: $(BUILD)/tcpvitals $(UNIT_BINS) $(BUILD)/bench/churn
	$(Q)bash tests/run.sh

# Set up, build and trace this host until Ctrl-C.
run: $(BUILD)/tcpvitals
	$(Q)$(BUILD)/tcpvitals $(ARGS)

# Two failures in a throwaway namespace, as tcpvitals shows them.
demo: $(BUILD)/tcpvitals
	$(Q)bash tools/demo.sh

# Benchmarks (root): results in build/bench/results.json; `make bench-readme`
# writes their table into README.md. Needs libbpf-tools and dumpcap (tshark).
bench: $(BUILD)/tcpvitals $(BUILD)/bench/attach_empty $(BUILD)/bench/churn $(BUILD)/bench/replay
	$(Q)python3 tools/bench.py
	$(Q)python3 tools/bench_table.py

bench-readme:
	$(Q)python3 tools/bench_table.py --readme README.md

# The binary, the man page and the agent's systemd unit; the unit's user
# (tcpvitals) is created when installing into the running system.
PREFIX ?= /usr/local
UNITDIR ?= $(PREFIX)/lib/systemd/system
install: $(BUILD)/tcpvitals $(BUILD)/tcpvitals.service
	install -D -m 0755 $(BUILD)/tcpvitals $(DESTDIR)$(PREFIX)/sbin/tcpvitals
	install -D -m 0644 tools/tcpvitals.8 $(DESTDIR)$(PREFIX)/share/man/man8/tcpvitals.8
	install -D -m 0644 $(BUILD)/tcpvitals.service $(DESTDIR)$(UNITDIR)/tcpvitals.service
	if [ -z "$(DESTDIR)" ] && ! getent passwd tcpvitals >/dev/null; then \
		useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin tcpvitals; fi

$(BUILD)/tcpvitals.service: tools/tcpvitals.service | $(BUILD)
	$(Q)sed 's|@SBINDIR@|$(PREFIX)/sbin|g' $< > $@

clean:
	$(Q)rm -rf $(BUILD)

# Benchmark helpers: empty programs as the baselines (empty, floor), and the
# receive path's reads alone at three levels (touch1, touch2, touch), and a
# per-thread count of BPF runs (blind, for tools/blindspot.sh).
BENCH_BPF := $(addprefix $(BUILD)/bench/,empty.bpf.o floor.bpf.o touch1.bpf.o touch2.bpf.o touch.bpf.o blind.bpf.o)
$(BUILD)/bench/%.bpf.o: tools/bench/%.bpf.c $(VMLINUX) $(BUILD)/.deps
	$(Q)mkdir -p $(BUILD)/bench
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -Ivmlinux/$(ARCH) -c $< -o $@

$(BUILD)/bench/touch%.bpf.o: tools/bench/touch.bpf.c $(VMLINUX) $(BUILD)/.deps
	$(Q)mkdir -p $(BUILD)/bench
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -DTOUCH_LEVEL=$* -Ivmlinux/$(ARCH) -c $< -o $@

$(BUILD)/bench/attach_empty: tools/bench/attach_empty.c $(BENCH_BPF)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -lbpf -lelf -lz -o $@

# The collector alone, fed recorded ring-buffer records (tcpvitals --record FILE).
$(BUILD)/bench/replay: tools/bench/replay.c $(USER_OBJS)
	$(Q)mkdir -p $(BUILD)/bench
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $< $(USER_OBJS) $(LDLIBS) -o $@

$(BUILD)/bench/churn: tools/bench/churn.c
	$(Q)mkdir -p $(BUILD)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@

#!/usr/bin/env bash
# Scenario: the static binary on Debian 12's own kernel (6.1), booted in QEMU
# with a root file system built for it (tools/vmtest.sh; VMTEST_KERNELS picks
# others: 5.10 6.1 6.12).
# Expectations (tests/vm/test_kernel.sh, inside): it loads and names what it
# chose, a lossy download's records equal nstat, resets are right, the TLS
# server is checked with the name curl sent, --netns selects one namespace.
source "$(dirname "$0")/common.sh"
need_root

if ! make -s -C "$LAB_ROOT" static > "$LAB_TMP/make.log" 2>&1; then
	not_ok "make static"
	sed 's/^/    /' "$LAB_TMP/make.log"
	finish
fi
bash "$LAB_ROOT/tools/vmtest.sh" ${VMTEST_KERNELS:-6.1} > "$LAB_TMP/vm.out" 2> "$LAB_TMP/vm.err"
grep -E '^(ok|not ok) - |^# ' "$LAB_TMP/vm.out"
grep -q '^not ok - ' "$LAB_TMP/vm.out" && T_FAILED=1
if ! grep -q '^ok - ' "$LAB_TMP/vm.out"; then
	not_ok "the test VM ran"
	sed 's/^/    /' "$LAB_TMP/vm.err"
fi
finish

#!/usr/bin/env bash
# Installs what tcpvitals needs to build and test, on Debian or Ubuntu.
# Quiet when everything is already there.
set -euo pipefail

need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
for p in clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev libssl-dev pkg-config make gcc \
	iproute2 iptables curl python3 openssl jq iperf3 kmod \
	qemu-system-x86 busybox-static cpio xz-utils libmicrohttpd-dev libcap-ng-dev prometheus systemd; do
	have_pkg "$p" || need+=("$p")
done
[ ${#need[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
	echo "tcpvitals: missing build dependencies: ${need[*]}; install them with your package manager" >&2
	exit 3
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "tcpvitals: missing build dependencies: ${need[*]}; run 'sudo make deps' once" >&2
	exit 3
fi
echo "  DEPS     ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# iperf3 asks whether to start a daemon; the answer is no.
echo 'iperf3 iperf3/start_daemon boolean false' | debconf-set-selections 2>/dev/null || true
# prometheus is there for promtool; its own service must not start.
policy=/usr/sbin/policy-rc.d
[ -e $policy ] || { printf '#!/bin/sh\nexit 101\n' >$policy && chmod +x $policy && trap 'rm -f $policy' EXIT; }
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null

#!/usr/bin/env bash
# tcpvitals on the kernels people have: boots Debian kernel packages in QEMU
# (TCG: no KVM needed) with a root file system built here, runs the static
# binary and tests/vm/test_kernel.sh inside, and ends with "N passed, N failed".
#
#   tools/vmtest.sh [KERNEL...]   KERNEL: 5.10 (Debian 11), 6.1 (Debian 12),
#                                 6.12 (Debian 13); default: all three
#   VMTEST_SCRIPT=PATH            run another script of the tree inside instead
#                                 (to look into a kernel); its output is in
#                                 build/vm/console-KERNEL.log
#
# Kernel packages come from Debian's archive through a private apt
# configuration under build/vm (the system's sources are not touched) and are
# cached there. Needs root (to run the tests' namespaces inside), qemu-system-x86,
# busybox-static, cpio, kmod and xz-utils (tools/deps.sh installs them).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VM=$ROOT/build/vm
BIN=$ROOT/build/static/tcpvitals
KERNELS=${*:-5.10 6.1 6.12}
TIMEOUT=${VMTEST_TIMEOUT:-900} # seconds per kernel, boot to power-off
# what the tests need from the kernel, as modules where it has them as modules
MODULES="x_tables nf_tables nft_compat nft_counter xt_statistic xt_tcpudp nf_reject_ipv4 nf_reject_ipv6 ipt_REJECT ip6t_REJECT veth"
# what the tests need from this host, with their libraries
PROGRAMS="bash python3 curl openssl ip ss nstat xtables-nft-multi jq stat mktemp seq sort head tail cut wc tr
	sleep date timeout cat cp rm mkdir chmod id setpriv grep sed mawk xargs paste basename dirname readlink
	env uname ln mv touch ls find sha256sum tee comm"

die() { echo "vmtest: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (the tests build namespaces inside the VM); try sudo"
for t in qemu-system-x86_64 busybox cpio modprobe depmod xz; do
	command -v "$t" >/dev/null || die "$t is missing; run 'sudo make deps'"
done
[ -x "$BIN" ] || die "$BIN is missing; run 'make static'"

APT=(-o Dir::Etc::SourceList="$VM/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o Dir::State::Lists="$VM/apt/lists" -o Dir::Cache::Archives="$VM/apt/archives" -o Debug::NoLocking=1
	-o APT::Sandbox::User=root)

apt_setup() {
	mkdir -p "$VM/apt/lists/partial" "$VM/apt/archives/partial" "$VM/debs"
	# the releases' own suites: their kernels stay downloadable
	printf '%s\n' "deb http://deb.debian.org/debian bullseye main" \
		"deb http://deb.debian.org/debian bookworm main" \
		"deb http://deb.debian.org/debian trixie main" > "$VM/apt/sources.list"
	# the lists are fetched once a day at most
	if [ -z "$(find "$VM/apt/lists" -name '*_Packages*' -mtime -1 2>/dev/null | head -1)" ]; then
		apt-get "${APT[@]}" -qq update >/dev/null 2>"$VM/apt/update.err" || {
			cat "$VM/apt/update.err" >&2
			die "cannot read Debian's package lists"
		}
	fi
}

kernel_package() { # VERSION -> the newest cloud kernel package of that Debian release
	local pat
	case $1 in
	5.10) pat='linux-image-5\.10\.0-[0-9]+-cloud-amd64-unsigned' ;;
	6.1) pat='linux-image-6\.1\.0-[0-9]+-cloud-amd64-unsigned' ;;
	6.12) pat='linux-image-6\.12\.[0-9]+\+deb13-cloud-amd64-unsigned' ;;
	*) echo "vmtest: no Debian kernel known as '$1' (5.10, 6.1 or 6.12)" >&2; return ;;
	esac
	apt-cache "${APT[@]}" search --names-only "^$pat\$" 2>/dev/null | cut -d' ' -f1 | sort -V | tail -1
}

# Unpacks the kernel package into $VM/kernel-PKG: boot/vmlinuz-*, lib/modules/RELEASE (uncompressed).
kernel_fetch() { # PACKAGE
	local pkg=$1 dir=$VM/kernel-$1 deb
	[ -f "$dir/.done" ] && return 0
	deb=$(ls "$VM/debs/${pkg}_"*.deb 2>/dev/null | head -1)
	if [ -z "$deb" ]; then
		(cd "$VM/debs" && apt-get "${APT[@]}" -qq download "$pkg" >/dev/null) || return 1
		deb=$(ls "$VM/debs/${pkg}_"*.deb | head -1)
	fi
	rm -rf "$dir" && mkdir -p "$dir/x"
	dpkg-deb -x "$deb" "$dir/x" || return 1
	mkdir -p "$dir/lib"
	if [ -d "$dir/x/usr/lib/modules" ]; then mv "$dir/x/usr/lib/modules" "$dir/lib/"; else mv "$dir/x/lib/modules" "$dir/lib/"; fi
	mv "$dir/x/boot" "$dir/"
	rm -rf "$dir/x"
	find "$dir/lib/modules" -name '*.ko.xz' -exec xz -d {} +
	depmod -b "$dir" "$(ls "$dir/lib/modules")" || return 1
	touch "$dir/.done"
}

# A program of the system (not a shim of a version manager in PATH).
host_program() {
	local d
	for d in /usr/sbin /usr/bin /sbin /bin; do
		[ -x "$d/$1" ] && { readlink -f "$d/$1"; return; }
	done
	command -v "$1" >/dev/null && readlink -f "$(command -v "$1")"
}

# The part of the root file system every kernel shares.
rootfs_base() {
	local r=$VM/rootfs p f lib
	rm -rf "$r" && mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,root,var/run,lib64}
	cp "$(command -v busybox)" "$r/bin/busybox"
	for p in $PROGRAMS; do
		f=$(host_program "$p") || die "$p is missing on this host"
		mkdir -p "$r$(dirname "$f")"
		cp "$f" "$r$f"
		[ "$(basename "$f")" != "$p" ] && ln -sf "$f" "$r$(dirname "$f")/$p"
		ldd "$f" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
			[ -e "$r$lib" ] || { mkdir -p "$r$(dirname "$lib")"; cp -L "$lib" "$r$lib"; }
		done
	done
	ln -sf mawk "$r/usr/bin/awk"
	for p in iptables ip6tables; do ln -sf /usr/sbin/xtables-nft-multi "$r/usr/sbin/$p"; done
	# busybox for init and whatever is not above
	for p in $("$r/bin/busybox" --list); do
		[ -e "$r/bin/$p" ] || [ -e "$r/usr/bin/$p" ] || [ -e "$r/usr/sbin/$p" ] || ln -s busybox "$r/bin/$p"
	done
	# what those programs read
	local py
	py=$(/usr/bin/python3 -c 'import sys; print("python%d.%d" % sys.version_info[:2])')
	(cd / && tar cf - --exclude=test --exclude=tests --exclude=idlelib --exclude=tkinter \
		--exclude=ensurepip --exclude=lib2to3 --exclude=pydoc_data "usr/lib/$py") | tar xf - -C "$r"
	for lib in "$r/usr/lib/$py/lib-dynload"/*.so; do
		ldd "$lib" 2>/dev/null | grep -o '/[^ ]*' | while read -r f; do
			[ -e "$r$f" ] || { mkdir -p "$r$(dirname "$f")"; cp -L "$f" "$r$f"; }
		done
	done
	mkdir -p "$r/usr/lib/x86_64-linux-gnu/xtables" "$r/usr/lib/ssl" "$r/etc/ssl"
	cp /usr/lib/x86_64-linux-gnu/xtables/*.so "$r/usr/lib/x86_64-linux-gnu/xtables/"
	cp -L /etc/ssl/openssl.cnf "$r/etc/ssl/openssl.cnf"
	ln -sf /etc/ssl/openssl.cnf "$r/usr/lib/ssl/openssl.cnf"
	cp /etc/protocols /etc/services "$r/etc/"
	echo "root:x:0:0:root:/root:/bin/bash" > "$r/etc/passwd"
	echo "nobody:x:65534:65534:nobody:/:/bin/false" >> "$r/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' > "$r/etc/group"
	# the project: tests, tools, the static binary where the lab looks for it
	mkdir -p "$r/tcpvitals/build"
	cp -r "$ROOT/tests" "$ROOT/tools" "$r/tcpvitals/"
	cp "$BIN" "$r/tcpvitals/build/tcpvitals"
	cp "$ROOT/tests/vm/init" "$r/init"
	chmod +x "$r/init"
}

# The kernel's modules the tests need, in load order, into the root file system.
rootfs_modules() { # KERNELDIR RELEASE
	local k=$1 rel=$2 r=$VM/rootfs line m
	rm -rf "$r/lib/modules" && mkdir -p "$r/lib/modules"
	: > "$r/lib/modules/load"
	for m in $MODULES; do
		modprobe -d "$k" -S "$rel" --show-depends "$m" 2>/dev/null | while read -r line; do
			set -- $line
			[ "$1" == insmod ] || continue
			grep -qxF "$(basename "$2")" "$r/lib/modules/load" && continue
			cp "$2" "$r/lib/modules/"
			basename "$2" >> "$r/lib/modules/load"
		done
	done
}

run_kernel() { # VERSION
	local ver=$1 pkg k rel log
	pkg=$(kernel_package "$ver")
	if [ -z "$pkg" ]; then
		echo "not ok - $ver: a Debian kernel package for it"
		return
	fi
	if ! kernel_fetch "$pkg"; then
		echo "not ok - $ver: $pkg downloaded and unpacked"
		return
	fi
	k=$VM/kernel-$pkg
	rel=$(ls "$k/lib/modules")
	rootfs_modules "$k" "$rel"
	(cd "$VM/rootfs" && find . | cpio -o -H newc 2>/dev/null | gzip -1) > "$VM/initrd-$ver.gz"
	log=$VM/console-$ver.log
	echo "# kernel $ver: $pkg" >&2
	timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -m 2048 -smp 2 -nographic -no-reboot \
		-kernel "$k/boot/vmlinuz-$rel" -initrd "$VM/initrd-$ver.gz" \
		-append "console=ttyS0 quiet panic=-1 tcpvitals.test=${VMTEST_SCRIPT:-tests/vm/test_kernel.sh}" > "$log" 2>&1
	# the test's lines, named after the kernel
	tr -d '\r' < "$log" | sed -n '/^=== tcpvitals vm start/,/^=== tcpvitals vm end/p' |
		sed -n -e "s/^\(not ok\|ok\) - /\1 - $ver: /p" -e "s/^# /# $ver: /p"
	if ! tr -d '\r' < "$log" | grep -q '^=== tcpvitals vm end'; then
		echo "not ok - $ver: the VM ran to its end (see $log)"
		tail -20 "$log" | sed 's/^/    /' >&2
	fi
}

apt_setup
rootfs_base
results=$(for v in $KERNELS; do run_kernel "$v"; done)
echo "$results"
echo "$(grep -c '^ok - ' <<<"$results") passed, $(grep -c '^not ok - ' <<<"$results") failed"
! grep -q '^not ok - ' <<<"$results"

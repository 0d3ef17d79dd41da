#!/usr/bin/env bash
# tcpvitals benchmarks (root). Prints the numbers that README.md quotes.
#   1. receive-path cost: run_time_ns/run_cnt of tcpvitals' tcp_probe program vs
#      an empty tp_btf program on the same tracepoint, same run (kernel.bpf_stats_enabled)
#   2. loopback throughput, traced / untraced, interleaved iperf3 runs (MTU 1500)
#   3. connection churn: every close record present, nothing lost, CPU per
#      connection (process + BPF) vs libbpf-tools tcplife on the same churn
#   4. collector memory (VmHWM) after small and large churns
# Knobs: BENCH_ONLY (run only that section number), BENCH_RATE (section 1's iperf3 -b,
#        default 1G: a loss-free rate, so the common path is what is measured), BENCH_SECONDS (iperf3 run length, default 3), BENCH_ROUNDS (default 5),
#        BENCH_CONNS (churn size, default 5000)
set -u
source "$(dirname "$0")/lab.sh"
SECS=${BENCH_SECONDS:-3}
ROUNDS=${BENCH_ROUNDS:-5}
CONNS=${BENCH_CONNS:-5000}
EMPTY=$LAB_ROOT/build/bench/attach_empty
ns=tvbench$$
lab_ns "$ns"
# the churn leaves client ports in TIME_WAIT: let new connections reuse them
ip netns exec "$ns" sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="1024 65535"
sysctl -qw kernel.bpf_stats_enabled=1
lab_bg ip netns exec "$ns" iperf3 -s -p 5201 >/dev/null 2>&1
# tcplife attaches through tracefs
[ -d /sys/kernel/tracing/events ] || mount -t tracefs nodev /sys/kernel/tracing
lab_wait_port "$ns" 5201 || exit 1

prog_stat() { # NAME -> "run_time_ns run_cnt"
	bpftool prog show -j | jq -r --arg n "$1" '[.[]|select(.name==$n)][0]|"\(.run_time_ns // 0) \(.run_cnt // 0)"'
}
progs_runtime() { # sum of run_time_ns over programs with ids not in the list $1
	bpftool prog show -j | jq --argjson old "$1" '[.[]|select(.id as $i|$old|index($i)|not)|.run_time_ns // 0]|add // 0'
}
prog_ids() { bpftool prog show -j | jq -c '[.[].id]'; }
cpu_ms() { # utime+stime of PID in ms
	awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) * 1000 / hz }' "/proc/$1/stat"
}
iperf() { # [iperf3 options]
	local i bps
	for i in 1 2 3; do # the server may still be finishing the previous test
		bps=$(ip netns exec "$ns" iperf3 -c 127.0.0.1 -p 5201 -t "$SECS" -J "$@" | jq '.end.sum_received.bits_per_second // empty')
		[ -n "$bps" ] && { echo "$bps"; return; }
		sleep 0.5
	done
	echo "iperf3 failed" >&2
	exit 1
}

ONLY=${BENCH_ONLY:-}
want() { [ -z "$ONLY" ] || [ "$ONLY" == "$1" ]; }
if want 1; then
RATE=${BENCH_RATE:-1G}
echo "## 1. receive-path cost per segment (iperf3 -b $RATE for ${SECS}s, loopback MTU 1500)"
"$TCPVITALS" --json --netns "/run/netns/$ns" >/dev/null 2>&1 &
tv=$!
LAB_PIDS+=($tv)
coproc EMPTYP { "$EMPTY" "$LAB_ROOT/build/bench/empty.bpf.o"; }
read -r _ <&"${EMPTYP[0]}"
sleep 1
r0=$(lab_counter "$ns" TcpRetransSegs)
# per-round deltas of the kernel's own accounting; the median round is reported
rounds=""
for r in $(seq "$ROUNDS"); do
	read -r t1a c1a < <(prog_stat btf_rcv_segment)
	read -r t0a c0a < <(prog_stat empty_tcp_probe)
	iperf -b "$RATE" >/dev/null
	read -r t1 c1 < <(prog_stat btf_rcv_segment)
	read -r t0 c0 < <(prog_stat empty_tcp_probe)
	round=$(awk -v t1=$((t1 - t1a)) -v c1=$((c1 - c1a)) -v t0=$((t0 - t0a)) -v c0=$((c0 - c0a)) \
		'BEGIN { printf "%.1f %.1f %.1f %d", t1/c1, t0/c0, t1/c1 - t0/c0, c1 }')
	echo "round $r: tcpvitals $(cut -d' ' -f1 <<<"$round") ns/run, empty $(cut -d' ' -f2 <<<"$round") ns/run, added $(cut -d' ' -f3 <<<"$round") ns over $(cut -d' ' -f4 <<<"$round") segments"
	rounds+="$(cut -d' ' -f3 <<<"$round")"$'\n'
done
echo "retransmitted segments during the runs (nstat): $(( $(lab_counter "$ns" TcpRetransSegs) - r0 ))"
kill -INT $tv; wait $tv
exec {EMPTYP[1]}>&-
wait "$EMPTYP_PID" 2>/dev/null
echo "median added: $(sort -n <<<"$rounds" | grep . | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }') ns per segment"
fi

if want 2; then
echo
echo "## 2. loopback throughput, traced/untraced ($ROUNDS interleaved rounds of ${SECS}s)"
sum_on=0 sum_off=0
for r in $(seq "$ROUNDS"); do
	off=$(iperf)
	"$TCPVITALS" --json >/dev/null 2>&1 &
	tv=$!
	sleep 0.5
	on=$(iperf)
	kill -INT $tv; wait $tv
	awk -v r="$r" -v off="$off" -v on="$on" 'BEGIN { printf "round %d: untraced %.2f Gbit/s, traced %.2f Gbit/s\n", r, off / 1e9, on / 1e9 }'
	sum_on=$(awk -v a="$sum_on" -v b="$on" 'BEGIN { printf "%.0f", a + b }')
	sum_off=$(awk -v a="$sum_off" -v b="$off" 'BEGIN { printf "%.0f", a + b }')
done
awk -v a="$sum_on" -v b="$sum_off" 'BEGIN { printf "ratio traced/untraced: %.4f\n", a / b }'
fi

if want 3; then
echo
echo "## 3. connection churn: $CONNS connections, each closed by the client"
lab_pyserver "$ns" hold 127.0.0.1 9400
churn() {
	ip netns exec "$ns" "$PY" -c '
import socket, sys
for _ in range(int(sys.argv[1])):
    s = socket.create_connection(("127.0.0.1", 9400)); s.close()' "$1"
}
measure() { # LABEL COMMAND... : runs the tracer around one churn
	local label=$1 before pid c0 c1 bpf
	shift
	before=$(prog_ids)
	"$@" >"$LAB_TMP/churn.out" 2>/dev/null &
	pid=$!
	sleep 1.5
	c0=$(cpu_ms $pid)
	churn "$CONNS"
	lab_wait_quiet "$ns" >/dev/null 2>&1
	sleep 1
	c1=$(cpu_ms $pid)
	bpf=$(progs_runtime "$before")
	echo "$label: process $(echo "$c1 - $c0" | bc) ms CPU, BPF $((bpf / 1000000)) ms;" \
		"$(echo "(($c1 - $c0) * 1000000 + $bpf) / $CONNS / 1000" | bc -l | xargs printf '%.1f') us per connection"
	HWM=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
	kill -INT $pid
	wait $pid
}
measure "tcpvitals --json --netns" "$TCPVITALS" --json --netns "/run/netns/$ns"
closes=$(grep -c '"type":"close"' "$LAB_TMP/churn.out")
lost=$(tail -1 "$LAB_TMP/churn.out" | jq .lost)
echo "tcpvitals: $closes close records for $((2 * CONNS)) sockets (client and server), $lost lost; collector VmHWM $HWM kB"
hwm_small=$HWM
measure "tcpvitals text (default)" "$TCPVITALS" --netns "/run/netns/$ns"
measure "tcplife (libbpf-tools)" tcplife
echo "tcplife: $(grep -c ' 9400 \| 127.0.0.1 ' "$LAB_TMP/churn.out") lines"

echo
echo "## 4. collector memory after $((CONNS * 4)) connections"
CONNS=$((CONNS * 4)) measure "tcpvitals --json --netns" "$TCPVITALS" --json --netns "/run/netns/$ns"
echo "collector VmHWM: $hwm_small kB after $CONNS connections, $HWM kB after $((CONNS * 4))"
fi

#!/usr/bin/env bash
# Where does the kernel run no BPF program at all? Runs a loopback churn in a
# namespace of its own while ftrace records three tracepoints (softirq_entry,
# sock:inet_sock_set_state, tcp:tcp_destroy_sock) and a plain BPF program
# (tools/bench/blind.bpf.c, nothing of tcpvitals) counts its own runs on the
# same three, per thread. Prints each thread where ftrace recorded events and
# the BPF program never ran. (Elsewhere the counts differ a little: the BPF
# program counts for a moment longer, and the kernel skips a run where the
# same program is already running on that CPU, the "Missed runs" of the README.)
# Usage: sudo tools/blindspot.sh [ROUNDS [SECONDS]]   (make bench builds what it needs)
# On the development VM: softirqs that run on the agent's thread (PID 1's
# tokio-rt-worker) are recorded by ftrace and never seen by BPF (README,
# "Limits you should know").
source "$(dirname "$0")/lab.sh"
rounds=${1:-5}
secs=${2:-5}
B=$LAB_ROOT/build/bench
T=/sys/kernel/tracing
EVENTS="irq/softirq_entry sock/inet_sock_set_state tcp/tcp_destroy_sock"
for f in "$B/attach_empty" "$B/blind.bpf.o" "$B/churn"; do
	[ -e "$f" ] || { echo "blindspot: $f is missing: run make bench first" >&2; exit 2; }
done
[ -d "$T/events" ] || mount -t tracefs tracefs "$T" || { echo "blindspot: no tracefs at $T" >&2; exit 2; }
tracing_off() {
	echo 0 >"$T/tracing_on"
	for e in $EVENTS; do echo 0 >"$T/events/$e/enable"; done
}
trap 'tracing_off; lab_cleanup' EXIT

ns=tvblind$$
lab_ns "$ns"
lab_bg ip netns exec "$ns" "$B/churn" server 127.0.0.1 9300
lab_wait_port "$ns" 9300
echo 800000 >"$T/buffer_size_kb"
seen=0
for r in $(seq "$rounds"); do
	echo 0 >"$T/tracing_on"
	echo >"$T/trace"
	for e in $EVENTS; do echo 1 >"$T/events/$e/enable"; done
	coproc BLIND { "$B/attach_empty" "$B/blind.bpf.o"; }
	read -r ready <&"${BLIND[0]}"
	[ "$ready" = ready ] || { echo "blindspot: the counting program did not load" >&2; exit 1; }
	echo 1 >"$T/tracing_on"
	ip netns exec "$ns" "$B/churn" client 127.0.0.1 9300 "$secs" >/dev/null
	lab_wait_quiet "$ns" 9300
	echo 0 >"$T/tracing_on"
	bpftool -j map dump name blind_runs >"$LAB_TMP/bpf.json"
	exec {BLIND[1]}>&-
	wait "$BLIND_PID"
	grep -v '^#' "$T/trace" | awk '{ t = $1; sub(/.*-/, "", t); e = $0; sub(/^.*[0-9]: /, "", e); sub(/:.*/, "", e);
		n = (e == "softirq_entry") ? 0 : (e == "inet_sock_set_state") ? 1 : 2; c[t " " n]++ }
		END { for (k in c) print k, c[k] }' >"$LAB_TMP/ftrace.txt"
	jq -r '.[] | .formatted | "\(.key.tid) \(.key.tp) \(.value)"' "$LAB_TMP/bpf.json" >"$LAB_TMP/bpf.txt"
	diff=$(awk 'NR == FNR { b[$1 " " $2] = $3; next } { k = $1 " " $2; if (!(k in b)) print $1, $2, $3, 0 }' \
		"$LAB_TMP/bpf.txt" "$LAB_TMP/ftrace.txt" | sort -n)
	echo "round $r: $(awk '{ s += $3 } END { print s }' "$LAB_TMP/ftrace.txt") events recorded by ftrace"
	while read -r tid tp ft bpf; do
		[ -n "$tid" ] || continue
		seen=1
		printf '  thread %s (%s): %s %s in ftrace, %s BPF runs\n' "$tid" "$(cat /proc/"$tid"/comm 2>/dev/null || echo gone)" \
			"$ft" "$(echo softirq_entry inet_sock_set_state tcp_destroy_sock | cut -d' ' -f$((tp + 1)))" "$bpf"
	done <<<"$diff"
done
[ "$seen" = 1 ] || echo "in $rounds rounds, every event ftrace recorded ran the BPF program too"

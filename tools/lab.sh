#!/usr/bin/env bash
# The test lab: network namespaces, loss, resets, servers. Source it.
# Everything it creates is removed on exit, even when a test fails.
#
#   lab_ns NAME            create namespace NAME with lo up at MTU 1500
#   lab_loss NS PORT PROB  drop PROB of TCP segments to and from PORT (IPv4 and IPv6)
#   lab_bg CMD...          run CMD in the background, killed at exit
#   lab_pyserver NS MODE ADDR PORT  tools/lab_server.py in NS, waited for; LAB_SERVER_PID is its pid
#   lab_counter NS NAME    the namespace's absolute nstat counter NAME
#   lab_wait_port NS PORT  wait until something listens on PORT in NS
#   lab_wait_quiet NS      wait until NS has no TCP socket but listeners and TIME_WAIT
#   lab_tracer OUT ARGS... start tcpvitals in the background, wait until it is tracing
#   lab_tracer_stop        SIGINT the tracer and wait for it

LAB_NS=()
LAB_PIDS=()
LAB_TMP=$(mktemp -d /tmp/tcpvitals-lab.XXXXXX)
LAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TCPVITALS=${TCPVITALS:-$LAB_ROOT/build/tcpvitals}
PY=$(command -v /usr/bin/python3 || command -v python3)

lab_cleanup() {
	local p ns
	for p in "${LAB_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${LAB_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for ns in "${LAB_NS[@]}"; do ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null; ip netns del "$ns" 2>/dev/null; done
	[ -n "${LAB_KEEP:-}" ] && echo "lab files kept in $LAB_TMP" >&2 || rm -rf "$LAB_TMP"
}
trap lab_cleanup EXIT
trap 'exit 130' INT TERM

lab_ns() {
	ip netns add "$1" || return 1
	LAB_NS+=("$1")
	ip -n "$1" link set lo mtu 1500 up
}

lab_loss() {
	local ns=$1 port=$2 prob=$3 t dir i
	for t in iptables ip6tables; do
		for dir in --dport --sport; do
			# a first rule may find its kernel modules still loading (a fresh VM): again
			for i in 1 2 3; do
				ip netns exec "$ns" $t -A INPUT -p tcp $dir "$port" -m statistic --mode random \
					--probability "$prob" -j DROP && break
				if [ $i -eq 3 ]; then
					echo "lab_loss: $t refused the loss rule in $ns" >&2
					return 1
				fi
				sleep 0.5
			done
		done
	done
}

# The loss rules and their counters, for a check that found no loss: lab_loss_show NS
lab_loss_show() {
	ip netns exec "$1" iptables -L INPUT -v -n 2>&1
}

lab_loss_off() {
	ip netns exec "$1" iptables -F INPUT
	ip netns exec "$1" ip6tables -F INPUT
}

lab_bg() {
	"$@" &
	LAB_PIDS+=($!)
}

lab_counter() {
	ip netns exec "$1" nstat -asz "$2" | awk -v n="$2" '$1 == n { print $2; found=1 } END { if (!found) print 0 }'
}

lab_wait_port() {
	local i
	for i in $(seq 100); do
		ip netns exec "$1" ss -Htln "sport = :$2" | grep -q . && return 0
		sleep 0.05
	done
	echo "nothing listens on port $2 in $1" >&2
	return 1
}

lab_wait_quiet() {
	local i
	for i in $(seq 300); do
		[ -z "$(ip netns exec "$1" ss -Htan state all exclude listening exclude time-wait)" ] && return 0
		sleep 0.05
	done
	echo "connections still open in $1:" >&2
	ip netns exec "$1" ss -tan >&2
	return 1
}

lab_pyserver() {
	lab_bg ip netns exec "$1" "$PY" "$LAB_ROOT/tools/lab_server.py" server "$2" "$3" "$4"
	LAB_SERVER_PID=${LAB_PIDS[-1]} # ip netns exec execs: the server's own pid
	lab_wait_port "$1" "$4"
}

# A static file server: lab_http NS ADDR PORT DIR
lab_http() {
	lab_bg ip netns exec "$1" "$PY" -m http.server "$3" --bind "$2" --directory "$4" >/dev/null 2>&1
	lab_wait_port "$1" "$3"
}

# Tracing has begun when the start record is out (JSON) or, for the text
# format, when the tracer says READY=1 on NOTIFY_SOCKET as systemd would hear
# it (user/notify.c; OUT.ready gets the messages).
LAB_TRACER_PID=
lab_tracer() {
	local out=$1 i ready='"type":"start"' where=$1 notify=
	shift
	if [[ " $* " != *" --json "* && " $* " != *" --agent "* ]]; then
		ready='^READY=1$' where=$out.ready notify=$out.notify
		rm -f "$notify"
		lab_bg "$PY" "$LAB_ROOT/tools/lab_server.py" ready "$notify" >"$out.ready"
		for i in $(seq 100); do [ -S "$notify" ] && break; sleep 0.02; done
	fi
	NOTIFY_SOCKET=$notify "$TCPVITALS" "$@" >"$out" 2>"$out.err" &
	LAB_TRACER_PID=$!
	LAB_PIDS+=($LAB_TRACER_PID)
	for i in $(seq 500); do
		grep -q "$ready" "$where" 2>/dev/null && return 0
		kill -0 "$LAB_TRACER_PID" 2>/dev/null || break
		sleep 0.02
	done
	echo "tcpvitals did not start:" >&2
	cat "$out.err" >&2
	return 1
}

lab_tracer_stop() {
	kill -INT "$LAB_TRACER_PID" 2>/dev/null
	wait "$LAB_TRACER_PID"
}

#!/usr/bin/env bash
# Scenario: a client sends 2 MB over a path that drops every 7th packet each
# way (deterministic, so the loss always bites), then keeps the connection
# open and idle.
# Expectation: bursts end after 100 ms even when nothing else happens on the
# connection: 1 s into the idle time, with the connection still open, the
# retransmit records already add up to the namespace's TcpRetransSegs delta
# and the out-of-order records to TcpExtTCPOFOQueue.
source "$(dirname "$0")/common.sh"
need_root

ns=tvbst$$
lab_ns "$ns"
port=9401
lab_pyserver "$ns" hold 127.0.0.1 $port
out="$LAB_TMP/burst.json"
lab_tracer "$out" --json --netns "/run/netns/$ns" --port $port
r0=$(lab_counter "$ns" TcpRetransSegs) o0=$(lab_counter "$ns" TcpExtTCPOFOQueue)
for t in iptables ip6tables; do
	ip netns exec "$ns" $t -A INPUT -p tcp --dport $port -m statistic --mode nth --every 7 --packet 3 -j DROP
	ip netns exec "$ns" $t -A INPUT -p tcp --sport $port -m statistic --mode nth --every 7 --packet 5 -j DROP
done
ip netns exec "$ns" "$PY" "$LAB_ROOT/tools/lab_server.py" send 127.0.0.1 $port 2000000 30 >/dev/null &
client=$!
# wait until everything sent is acknowledged: the client's send queue is empty
for i in $(seq 300); do
	sleep 0.1
	q=$(ip netns exec "$ns" ss -Htn state established "dport = :$port" | awk '{print $2}')
	[ "$q" == 0 ] && break
done
sleep 1
r1=$(lab_counter "$ns" TcpRetransSegs) o1=$(lab_counter "$ns" TcpExtTCPOFOQueue)
cp "$out" "$LAB_TMP/snapshot.json"
check_eq "the connection is still open (no close record yet)" 0 \
	"$(jqs "$LAB_TMP/snapshot.json" '[.[]|select(.type=="close")]|length')"
check "the lossy path made retransmits" test $((r1 - r0)) -gt 0
check_eq "while open, retransmit records add up to nstat TcpRetransSegs" $((r1 - r0)) \
	"$(jqs "$LAB_TMP/snapshot.json" '[.[]|select(.type=="retransmit")|.segs]|add // 0')"
check_eq "while open, out-of-order records add up to nstat TcpExtTCPOFOQueue" $((o1 - o0)) \
	"$(jqs "$LAB_TMP/snapshot.json" '[.[]|select(.type=="ofo")|.count]|add // 0')"
kill $client
wait $client 2>/dev/null
lab_wait_quiet "$ns"
lab_tracer_stop
check_eq "after the close: retransmit records still add up to the close records" \
	"$(jqs "$out" '[.[]|select(.type=="close")|.retrans_segs]|add')" \
	"$(jqs "$out" '[.[]|select(.type=="retransmit")|.segs]|add // 0')"
check_json_lines "$out"
finish

#!/usr/bin/env bash
# Scenario: a live connection in a namespace.
# Expectation: its conn equals the sk: cookie that ss -e shows for it; the
# server's accepted end is dir in, owned by the server process (learned when
# it first receives), with a handshake time.
source "$(dirname "$0")/common.sh"
need_root

ns=tvck$$
lab_ns "$ns"
out="$LAB_TMP/cookie.json"
lab_pyserver "$ns" hold 127.0.0.1 9100
server=$LAB_SERVER_PID
lab_tracer "$out" --json --netns "/run/netns/$ns"
ip netns exec "$ns" "$PY" "$LAB_ROOT/tools/lab_server.py" client 127.0.0.1 9100 2 > "$LAB_TMP/lport" &
client=$!
for i in $(seq 40); do [ -s "$LAB_TMP/lport" ] && break; sleep 0.05; done
lport=$(cat "$LAB_TMP/lport")
sk_hex=$(ip netns exec "$ns" ss -Htne "sport = :$lport" | grep -o 'sk:[0-9a-f]*' | head -1 | cut -d: -f2)
wait $client
sleep 0.2
lab_tracer_stop
[ -n "$sk_hex" ] && ok "ss -e shows the client socket (sk:$sk_hex)" || not_ok "ss -e shows no cookie for port $lport"
check_eq "conn of the close record = ss -e cookie" "$((16#${sk_hex:-0}))" \
	"$(jqs "$out" --argjson p "$lport" '[.[]|select(.type=="close" and .lport==$p)][0].conn')"
check_eq "a healthy connection is one record: its close" 1 \
	"$(jqs "$out" --argjson p "$lport" '[.[]|select(.lport==$p)]|length')"
check_eq "its close carries its state changes, connect to close" "CLOSE>SYN_SENT SYN_SENT>ESTABLISHED ESTABLISHED>FIN_WAIT1 FIN_WAIT1>FIN_WAIT2 FIN_WAIT2>CLOSE" \
	"$(jqs "$out" -r --argjson p "$lport" '[.[]|select(.type=="close" and .lport==$p)][0].states|map("\(.old)>\(.new)")|join(" ")')"
check_eq "its state changes in time order, within its duration" true \
	"$(jqs "$out" --argjson p "$lport" '[.[]|select(.type=="close" and .lport==$p)][0]|(.states|map(.at_us)) as $t|$t == ($t|sort) and $t[0] == 0 and $t[-1] <= .duration_us')"
check_eq "accepted end: dir in, owned by the server process" "in $server python3" \
	"$(jqs "$out" -r --argjson p "$lport" '[.[]|select(.type=="close" and .rport==$p)][0]|"\(.dir) \(.pid) \(.comm)"')"
check_eq "accepted end: a handshake time in its close" true \
	"$(jqs "$out" --argjson p "$lport" '[.[]|select(.type=="close" and .rport==$p)][0].handshake_us > 0')"
check_json_lines "$out"
finish

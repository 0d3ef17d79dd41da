#!/usr/bin/env bash
# Scenario: a server and two Python clients connected before tracing starts; one client closes while traced, the other stays open
# until tracing stops.
# Expectations: start.existing counts the connections already open in the
# namespace (ss's count); the one that closes while traced keeps its owner and
# direction (from the socket table and /proc), though tracing never saw its
# connect or accept; the one still open at stop is reported "(still open)" with
# what the kernel says of it now: its state and byte counts equal ss -ti's.
source "$(dirname "$0")/common.sh"
need_root

ns=tvold$$
lab_ns "$ns"
lab_pyserver "$ns" hold 127.0.0.1 9601
server=$LAB_SERVER_PID
ip netns exec "$ns" "$PY" "$LAB_ROOT/tools/lab_server.py" client 127.0.0.1 9601 3 > "$LAB_TMP/short.port" &
short=$!
ip netns exec "$ns" "$PY" "$LAB_ROOT/tools/lab_server.py" client 127.0.0.1 9601 30 > "$LAB_TMP/long.port" &
long=$!
LAB_PIDS+=($long)
for i in $(seq 60); do [ -s "$LAB_TMP/short.port" ] && [ -s "$LAB_TMP/long.port" ] && break; sleep 0.05; done
sport=$(cat "$LAB_TMP/short.port") lport=$(cat "$LAB_TMP/long.port")
open_now=$(ip netns exec "$ns" ss -Htn state established | wc -l)

out="$LAB_TMP/existing.json"
lab_tracer "$out" --json --netns "/run/netns/$ns"
check_eq "start.existing = the connections ss lists" "$open_now" "$(head -1 "$out" | jq .existing)"
wait $short
sleep 0.5
ss_line=$(ip netns exec "$ns" ss -Htin "sport = :$lport")
lab_tracer_stop

check_eq "older than tracing, closed while traced: the client's owner and direction" "out $short python3" \
	"$(jqs "$out" -r --argjson p "$sport" '[.[]|select(.type=="close" and .lport==$p)][0]|"\(.dir) \(.pid) \(.comm)"')"
check_eq "older than tracing, closed while traced: the server's end, owner and direction" "in $server python3" \
	"$(jqs "$out" -r --argjson p "$sport" '[.[]|select(.type=="close" and .rport==$p)][0]|"\(.dir) \(.pid) \(.comm)"')"

# text: the connection still open at stop, with the kernel's view of it
txt="$LAB_TMP/existing.txt"
lab_tracer "$txt" --all --netns "/run/netns/$ns" --port 9601
ss_line=$(ip netns exec "$ns" ss -Htin "sport = :$lport")
lab_tracer_stop
block=$(grep -A1 "127.0.0.1:$lport -> 127.0.0.1:9601" "$txt")
check "still open at stop: printed as still open with its owner" grep -q "python3\[$long\] 127.0.0.1:$lport -> 127.0.0.1:9601  out .*(still open)" <<<"$block"
check_eq "still open at stop: the kernel's state" ESTABLISHED "$(grep -o 'now [A-Z_]*' <<<"$block" | cut -d' ' -f2)"
# bytes_sent where the kernel has it (bytes_acked also counts the SYN)
sent=$(grep -o 'bytes_sent:[0-9]*' <<<"$ss_line" | cut -d: -f2)
check_eq "still open at stop: bytes sent as ss counts them" "${sent:-?} B" "$(grep -o 'sent [0-9]* B' <<<"$block" | cut -d' ' -f2-)"
rcvd=$(grep -o 'bytes_received:[0-9]*' <<<"$ss_line" | cut -d: -f2)
check_eq "still open at stop: bytes received as ss counts them" "${rcvd:-0} B" "$(grep -o 'received [0-9]* B' <<<"$block" | cut -d' ' -f2-)"
check_json_lines "$out"
finish

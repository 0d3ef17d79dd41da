#!/usr/bin/env bash
# Scenario: a prefork server: the parent listens, two forked workers accept;
# clients connect and write nothing. Then curl and Python's http.server.
# Expectation: an accepted connection's owner is the process that accepted it
# (each worker logs which connection it took: that log is the oracle), known
# without the connection ever sending or receiving; the listener's owner (the
# parent) owns none. Outgoing connections belong to the process that connects.
source "$(dirname "$0")/common.sh"
need_root

ns=tvown$$
lab_ns "$ns"
log="$LAB_TMP/accepted.log"
lab_bg ip netns exec "$ns" "$PY" "$LAB_ROOT/tools/lab_server.py" prefork 127.0.0.1 9501 2 "$log"
parent=${LAB_PIDS[-1]}
lab_wait_port "$ns" 9501
out="$LAB_TMP/owner.json"
lab_tracer "$out" --json --netns "/run/netns/$ns"
for i in $(seq 12); do
	ip netns exec "$ns" "$PY" -c 'import socket,sys; socket.create_connection(("127.0.0.1", 9501)).close()'
done
lab_http "$ns" 127.0.0.1 9502 "$LAB_TMP"
ip netns exec "$ns" curl -s -o /dev/null http://127.0.0.1:9502/
lab_wait_quiet "$ns"
sleep 0.3
lab_tracer_stop

check_eq "prefork: twelve accepted connections logged" 12 "$(wc -l < "$log")"
check_eq "prefork: both workers accepted some" 2 "$(cut -d' ' -f1 "$log" | sort -u | wc -l)"
expected=$(sort -n -k2 "$log" | awk '{print $2 ":" $1}' | paste -sd,)
reported=$(jqs "$out" -r '[.[]|select(.type=="close" and .lport==9501 and .dir=="in")]|sort_by(.rport)|map("\(.rport):\(.pid)")|join(",")')
check_eq "prefork: each accepted connection's owner is the worker that accepted it" "$expected" "$reported"
check_eq "prefork: the listening parent owns none" 0 \
	"$(jqs "$out" --argjson p "$parent" '[.[]|select(.pid==$p)]|length')"
check_eq "prefork: the workers' comm" true \
	"$(jqs "$out" '[.[]|select(.type=="close" and .lport==9501)]|all(.comm=="python3")')"
check_eq "http.server: the accepted end belongs to the server, the outgoing end to curl" "python3 curl" \
	"$(jqs "$out" -r '[.[]|select(.type=="close" and (.lport==9502 or .rport==9502))]|sort_by(.dir)|map(.comm)|"\(.[0]) \(.[1])"')"
check_json_lines "$out"
finish

#!/usr/bin/env bash
# Scenario: clients that give up while the server is still sending: a Python
# client that reads what has arrived and closes, one that shuts down both
# directions first, and curl hitting --max-time mid-download. The kernel then
# answers the server's next segment with a reset (tcp_abort_on_data), after the
# client socket's destroy in the first and last case. With shutdown() the kernel
# also fires tcp_receive_reset for its own abort.
# Expectations, in both storage modes: those late records join their
# connection: one close per connection with the reset counted (resets_sent 1,
# closed_by reset_sent), no reset "received" on the client side, nothing
# reported "(still open)"; the sums agree with nstat (TcpOutRsts,
# TcpExtTCPAbortOnData). In hash storage, late events never create state that
# a later socket at the same address inherits.
source "$(dirname "$0")/common.sh"
need_root

ns=tvlate$$
lab_ns "$ns"
port=9301
lab_pyserver "$ns" stream 127.0.0.1 $port

give_up_early() { # the three clients, one after the other
	ip netns exec "$ns" "$PY" "$LAB_ROOT/tools/lab_server.py" early 127.0.0.1 $port close
	ip netns exec "$ns" "$PY" "$LAB_ROOT/tools/lab_server.py" early 127.0.0.1 $port shutdown
	ip netns exec "$ns" curl -sS -o /dev/null --max-time 0.2 "http://127.0.0.1:$port/" 2>/dev/null
	lab_wait_quiet "$ns"
}

# Prints NAME=VALUE lines about the JSON Lines in $1 (Python: exact 64-bit cookies).
summarize() {
	"$PY" - "$1" "$port" <<'EOF'
import collections, json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
port = int(sys.argv[2])
conns = collections.defaultdict(list)
for r in recs:
    if r.get("conn"):
        conns[r["conn"]].append(r)
closes = [r for r in recs if r["type"] == "close"]
clients = [r for r in closes if r["rport"] == port and r["dir"] == "out"]
servers = [r for r in closes if r["lport"] == port and r["dir"] == "in"]
client_ids = {r["conn"] for r in clients}
out = {
    "clients": len(clients),
    "servers": len(servers),
    "clients_reset_sent": sum(r["resets_sent"] == 1 and r["resets_received"] == 0 and r["closed_by"] == "reset_sent" for r in clients),
    "servers_reset_received": sum(r["resets_received"] == 1 and r["closed_by"] == "reset_received" for r in servers),
    "client_resets_received_records": sum(r["type"] == "reset" and r["side"] == "received" and r["conn"] in client_ids for r in recs),
    "resets_sent_sum": sum(r["resets_sent"] for r in closes),
    "abort_on_data_records": sum(r["type"] == "reset" and r["reason"] == "tcp_abort_on_data" for r in recs),
    "conns_without_one_close": sum(sum(x["type"] == "close" for x in rs) != 1 for rs in conns.values()),
    "conns_with_two_endpoints": sum(len({(x["lport"], x["rport"]) for x in rs if x["lport"]}) > 1 for rs in conns.values()),
    "records_after_close_in_stream": sum(1 for rs in conns.values() for i, x in enumerate(rs) if x["type"] != "close" and any(y["type"] == "close" for y in rs[:i])),
}
for k, v in out.items():
    print(f"{k}={v}")
EOF
}

for storage in sk_storage hash; do
	out="$LAB_TMP/late-$storage.json"
	r0=$(lab_counter "$ns" TcpOutRsts) a0=$(lab_counter "$ns" TcpExtTCPAbortOnData)
	lab_tracer "$out" --json --storage "$storage" --netns "/run/netns/$ns" --port $port
	give_up_early
	sleep 0.3
	lab_tracer_stop
	r1=$(lab_counter "$ns" TcpOutRsts) a1=$(lab_counter "$ns" TcpExtTCPAbortOnData)
	eval "$(summarize "$out")"
	check_eq "$storage: three client connections, each with one close" 3 "$clients"
	check_eq "$storage: every connection has exactly one close" 0 "$conns_without_one_close"
	check_eq "$storage: the late reset joined each client's close (resets_sent 1, closed_by reset_sent)" 3 "$clients_reset_sent"
	check_eq "$storage: the kernel's own abort is never a reset received" 0 "$client_resets_received_records"
	check_eq "$storage: each server end received one reset" 3 "$servers_reset_received"
	check_eq "$storage: resets sent in the closes = nstat TcpOutRsts delta" $((r1 - r0)) "$resets_sent_sum"
	check_eq "$storage: tcp_abort_on_data resets = nstat TcpExtTCPAbortOnData delta" $((a1 - a0)) "$abort_on_data_records"
	check_eq "$storage: no record of a connection comes after its close" 0 "$records_after_close_in_stream"
	check_json_lines "$out"
done

# Text: one block per client connection, none of them "(still open)".
out="$LAB_TMP/late.txt"
lab_tracer "$out" --all --netns "/run/netns/$ns" --port $port
give_up_early
sleep 0.3
lab_tracer_stop
check_eq "text: one block per client connection" 3 "$(grep -c -- "-> 127.0.0.1:$port " "$out")"
check_eq "text: no block is still open" 0 "$(grep -c 'still open' "$out")"
check_eq "text: each client block counts its reset sent" 3 "$(grep -c 'resets 1 sent, 0 received' "$out")"

# Hash storage under churn: sockets reuse freed addresses; no one inherits a cookie.
out="$LAB_TMP/reuse.json"
lab_tracer "$out" --json --storage hash --netns "/run/netns/$ns" --port $port
for i in $(seq 40); do ip netns exec "$ns" "$PY" "$LAB_ROOT/tools/lab_server.py" early 127.0.0.1 $port close; done
lab_wait_quiet "$ns"
sleep 0.3
lab_tracer_stop
eval "$(summarize "$out")"
check_eq "hash churn: 40 client closes" 40 "$clients"
check_eq "hash churn: every connection has exactly one close" 0 "$conns_without_one_close"
check_eq "hash churn: no cookie spans two connections" 0 "$conns_with_two_endpoints"
finish

#!/usr/bin/env bash
# Scenario: a server trickles data; for 0.8 s every ACK from the client is
# dropped, so the server's retransmission timer fires and resends data the
# client already has.
# Expectation: retransmits of kind rto, duplicate data on the client equal
# to the kernel's DelayedACKLost, and the close's rto count from the kernel.
source "$(dirname "$0")/common.sh"
need_root

ns=tvrto$$
lab_ns "$ns"
out="$LAB_TMP/rto.json"
lab_pyserver "$ns" trickle 127.0.0.1 9300
lab_tracer "$out" --json --netns "/run/netns/$ns"
d0=$(lab_counter "$ns" TcpExtDelayedACKLost)
r0=$(lab_counter "$ns" TcpRetransSegs)
ip netns exec "$ns" "$PY" "$LAB_ROOT/tools/lab_server.py" client 127.0.0.1 9300 5 >/dev/null &
client=$!
sleep 0.5
ip netns exec "$ns" iptables -A INPUT -p tcp --dport 9300 -j DROP
sleep 0.8
ip netns exec "$ns" iptables -F INPUT
wait $client
lab_wait_quiet "$ns"
d1=$(lab_counter "$ns" TcpExtDelayedACKLost)
r1=$(lab_counter "$ns" TcpRetransSegs)
sleep 0.2
lab_tracer_stop

check_eq "server retransmitted on timeout (kind rto)" true \
	"$(jqs "$out" '[.[]|select(.type=="retransmit" and .lport==9300)] | any(.kind=="rto")')"
check_eq "retransmit segs = nstat TcpRetransSegs delta" $((r1 - r0)) "$(jqs "$out" '[.[]|select(.type=="retransmit")|.segs]|add // 0')"
[ $((d1 - d0)) -gt 0 ] && ok "the client really got duplicates ($((d1 - d0)))" || not_ok "no duplicate data arrived"
check_eq "client's dup counts = nstat TcpExtDelayedACKLost delta" $((d1 - d0)) \
	"$(jqs "$out" '[.[]|select(.type=="dup" and .rport==9300)|.count]|add // 0')"
check_eq "client's close dup_segs agrees" $((d1 - d0)) "$(jqs "$out" '[.[]|select(.type=="close" and .rport==9300)][0].dup_segs')"
# the kernel drops each duplicate with a reason; names come from the running kernel's BTF
check_eq "client's drops carry BTF reason names and add up to DelayedACKLost" $((d1 - d0)) \
	"$(jqs "$out" '[.[]|select(.type=="drop" and .rport==9300 and (.reason|IN("tcp_old_data","tcp_old_sequence")))|.count]|add // 0')"
check_eq "server's close counts its RTOs" true \
	"$(jqs "$out" '[.[]|select(.type=="close" and .lport==9300)][0].rto >= 1')"
check_json_lines "$out"
finish

#!/usr/bin/env bash
# Scenarios: a server that aborts (SO_LINGER {1,0}); a closed port (refused);
# a port whose SYNs are dropped (connect timeout).
# Expectations: the aborted client sees a reset received and closed_by
# reset_received; refused and timed-out connections are never_established,
# the timed-out one with SYN retransmits.
source "$(dirname "$0")/common.sh"
need_root

ns=tvrst$$
lab_ns "$ns"
out="$LAB_TMP/resets.json"
lab_pyserver "$ns" abort 127.0.0.1 9001
ip netns exec "$ns" iptables -A INPUT -p tcp --syn --dport 9003 -j DROP
# the first SYN-ACK from port 9004 is lost: the listener sends it again
lab_pyserver "$ns" hold 127.0.0.1 9004
ip netns exec "$ns" iptables -A INPUT -p tcp --sport 9004 --tcp-flags SYN,ACK SYN,ACK \
	-m statistic --mode nth --every 1000 --packet 0 -j DROP
lab_tracer "$out" --json --netns "/run/netns/$ns"

ip netns exec "$ns" curl -sS -o /dev/null http://127.0.0.1:9001/ 2>/dev/null
check_eq "aborted: curl saw the reset (exit 56)" 56 $?
ip netns exec "$ns" curl -sS -o /dev/null http://127.0.0.1:9002/ 2>/dev/null
check_eq "refused: curl exit 7" 7 $?
ip netns exec "$ns" curl -sS -o /dev/null --connect-timeout 2 http://127.0.0.1:9003/ 2>/dev/null
check_eq "timeout: curl exit 28" 28 $?
r0=$(lab_counter "$ns" TcpRetransSegs)
ip netns exec "$ns" "$PY" "$LAB_ROOT/tools/lab_server.py" client 127.0.0.1 9004 0.1 >/dev/null
lab_wait_quiet "$ns"
r1=$(lab_counter "$ns" TcpRetransSegs)
sleep 0.3
lab_tracer_stop

client() { # PORT JQ-EXPR: over the client side's records to PORT
	jqs "$out" -r --argjson p "$1" "[.[]|select(.rport==\$p and .dir==\"out\")]|$2"
}
check_eq "aborted: client received a reset" received "$(client 9001 '[.[]|select(.type=="reset")][0].side')"
check_eq "aborted: client closed_by" reset_received "$(client 9001 '[.[]|select(.type=="close")][0].closed_by')"
check_eq "aborted: client resets_received" 1 "$(client 9001 '[.[]|select(.type=="close")][0].resets_received')"
server_reset=$(jqs "$out" -r '[.[]|select(.lport==9001 and .type=="reset")][0]|"\(.side) \(.reason)"')
case "$server_reset" in
sent\ unknown|sent\ null|null*) not_ok "aborted: server's reset has the kernel's reason: $server_reset" ;;
sent\ *) ok "aborted: server's reset has the kernel's reason ($server_reset)" ;;
*) not_ok "aborted: server's reset: $server_reset" ;;
esac
check_eq "aborted: server closed_by" reset_sent "$(jqs "$out" -r '[.[]|select(.lport==9001 and .type=="close")][0].closed_by')"
check_eq "refused: closed_by" never_established "$(client 9002 '[.[]|select(.type=="close")][0].closed_by')"
check_eq "refused: reset received in SYN_SENT" "received SYN_SENT" "$(client 9002 '[.[]|select(.type=="reset")][0]|"\(.side) \(.state)"')"
check_eq "timeout: closed_by" never_established "$(client 9003 '[.[]|select(.type=="close")][0].closed_by')"
check_eq "timeout: every retransmit is a SYN" true "$(client 9003 '[.[]|select(.type=="retransmit")]|length > 0 and all(.kind=="syn")')"
check_eq "timeout: SYN retransmits agree with close" true \
	"$(client 9003 '([.[]|select(.type=="retransmit")|.segs]|add) == ([.[]|select(.type=="close")][0].retrans_segs)')"
check_eq "no open record for never-established connections" 0 "$(jqs "$out" '[.[]|select(.type=="open" and (.rport==9002 or .rport==9003))]|length')"
check_eq "lost SYN-ACK: the listener's retransmits are reported (conn 0, kind synack)" true \
	"$(jqs "$out" '[.[]|select(.type=="retransmit" and .lport==9004)] | length > 0 and all(.kind=="synack" and .conn==0)')"
check_eq "lost SYN-ACK: a late SYN-ACK copy is not duplicate data" 0 \
	"$(jqs "$out" '[.[]|select(.rport==9004 and (.type=="dup" or (.type=="close" and .dup_segs > 0)))]|length')"
check_eq "lost SYN-ACK: all retransmits = nstat TcpRetransSegs delta" $((r1 - r0)) \
	"$(jqs "$out" '[.[]|select(.type=="retransmit" and (.lport==9004 or .rport==9004))|.segs]|add // 0')"
check_json_lines "$out"
finish

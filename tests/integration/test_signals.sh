#!/usr/bin/env bash
# Scenario: what an expert reads in a capture, made for real between a client
# and a server namespace joined by a veth pair: a receiver that stops reading
# (zero windows, both ends), a server that closes while the client keeps
# sending (resets after the close, both ends), a TLS 1.2 client that rejects
# the server's certificate (its alert in plaintext), a TLS 1.2 server that
# sends its alert and closes mid-upload (the alert encrypted), and receivers
# that are still stuck when tracing stops.
# Expectation: the records and verdicts say so, and agree with the kernel's
# own counters (nstat in each namespace) where both count the same thing.
source "$(dirname "$0")/common.sh"
source "$LAB_ROOT/tools/lab_ca.sh"
need_root

cns=tvsigc$$
sns=tvsigs$$
lab_ns "$cns"
lab_ns "$sns"
ip link add "v$cns" type veth peer name "v$sns"
ip link set "v$cns" netns "$cns"
ip link set "v$sns" netns "$sns"
ip -n "$cns" addr add 10.79.1.1/24 dev "v$cns"
ip -n "$sns" addr add 10.79.1.2/24 dev "v$sns"
ip -n "$cns" link set "v$cns" up
ip -n "$sns" link set "v$sns" up
# an XDP program on both ends: arriving segments are copied into the linear
# area, where a tracing program can read a received TLS alert on any kernel
# (loopback and bare veth leave payload in page fragments; see the README)
clang -O2 -target bpf -I/usr/include/x86_64-linux-gnu -c "$LAB_ROOT/tools/lab_xdp_pass.bpf.c" \
	-o "$LAB_TMP/xdp_pass.o"
ip -n "$cns" link set dev "v$cns" xdp obj "$LAB_TMP/xdp_pass.o" sec xdp
ip -n "$sns" link set dev "v$sns" xdp obj "$LAB_TMP/xdp_pass.o" sec xdp
in_c() { ip netns exec "$cns" "$@"; }
in_s() { ip netns exec "$sns" "$@"; }
counter() { lab_counter "$1" "$2"; }

ca=$LAB_TMP/ca
ca_init "$ca"
ca_leaf "$ca" srv server.lab.test "$(ca_date '-1 day')" "$(ca_date '+400 days')"
head -c 3000000 /dev/zero >"$LAB_TMP/upload"
# zero windows on the server namespace's loopback: XDP's page-sized copies would fill a
# small receive buffer by memory before its window (the kernel then closes the window
# without counting it in TcpExtTCPToZeroWindowAdv, and drops)
lab_pyserver "$sns" bulk 127.0.0.1 9701        # zero windows
lab_pyserver "$sns" bulk 127.0.0.1 9702        # a receiver still stuck at the end
lab_pyserver "$sns" readclose 10.79.1.2 9703   # closes while the client sends
lab_bg ip netns exec "$sns" openssl s_server -quiet -www -tls1_2 -accept 9704 -cert "$ca/srv.crt" \
	-key "$ca/srv.key" >/dev/null 2>&1
lab_wait_port "$sns" 9704
lab_bg ip netns exec "$sns" "$PY" "$LAB_ROOT/tools/lab_server.py" tlsupload "$ca/srv.crt" "$ca/srv.key" \
	10.79.1.2 9705
lab_wait_port "$sns" 9705

out=$LAB_TMP/signals.json
lab_tracer "$out" --json --port 9701 --port 9702 --port 9703 --port 9704 --port 9705 \
	--tls-port 9704 --tls-port 9705 --tls-check off

# ---- a receiver that stops reading for 1.5 s, with a 64 kB receive buffer; the
# namespace's counters (absolute: it is new) count this connection's two ends only
in_s "$PY" "$LAB_ROOT/tools/lab_server.py" slowread 127.0.0.1 9701 1.5 65536 >/dev/null
sleep 0.3
zw_adv=$(counter "$sns" TcpExtTCPToZeroWindowAdv)
zw_probes=$(counter "$sns" TcpExtTCPWinProbe)

# ---- a server that reads the request and closes while the client keeps uploading:
# the client's egress at 20 Mbit/s, so that its segments are still on the way
# when the server is gone, as on a real path
in_c tc qdisc add dev "v$cns" root tbf rate 20mbit burst 20000 latency 1s
# a busy machine can let the whole upload's head in before the server closes:
# then no segment comes after the socket is gone (the kernel's TcpOutRsts says
# so), and the upload is made again, up to three times; the last one is checked
for attempt in 1 2 3; do
	rsts_before=$(counter "$sns" TcpOutRsts)
	in_c curl -s -o /dev/null -H 'Expect:' -T "$LAB_TMP/upload" http://10.79.1.2:9703/
	sleep 0.5
	out_rsts=$(($(counter "$sns" TcpOutRsts) - rsts_before))
	[ "$out_rsts" -ge 3 ] && break
done
in_c tc qdisc del dev "v$cns" root

# ---- TLS 1.2: a client that rejects the server's certificate (the lab CA is not in
# its store); a server that sends its alert and closes mid-upload
echo | in_c openssl s_client -tls1_2 -connect 10.79.1.2:9704 -verify_return_error \
	-CAfile /etc/ssl/certs/ca-certificates.crt >/dev/null 2>&1
in_c curl -sk --tls-max 1.2 -o /dev/null -T "$LAB_TMP/upload" https://10.79.1.2:9705/

# ---- still stuck when tracing stops
in_s "$PY" "$LAB_ROOT/tools/lab_server.py" slowread 127.0.0.1 9702 30 65536 >/dev/null &
stuck=$!
sleep 1.5
lab_tracer_stop
kill $stuck 2>/dev/null
wait $stuck 2>/dev/null

close_of() { # PORT DIR [INDEX]: that end's close record (the first, or INDEX: -1 the last)
	jqs "$out" -c --argjson p "$1" --arg d "$2" --argjson i "${3:-0}" \
		'[.[]|select(.type=="close" and .dir==$d and ((.dir=="out" and .rport==$p) or (.dir=="in" and .lport==$p)))][$i]'
}
jq_true() { jq -e "$@" >/dev/null; }
has_verdict() { jq -e --arg v "$1" '.verdict|index($v) != null' >/dev/null; }
records() { # TYPE PORT DIR: that end's records of TYPE
	jqs "$out" -c --arg t "$1" --argjson p "$2" --arg d "$3" \
		'[.[]|select(.type==$t and .dir==$d and ((.dir=="out" and .rport==$p) or (.dir=="in" and .lport==$p)))]'
}

# zero windows: the sender sees the peer's; the receiver, its own
srv=$(close_of 9701 in)
cli=$(close_of 9701 out)
check "zero window: the sending server's verdict" has_verdict zero_window <<<"$srv"
check_eq "zero window: the peer's zero windows the server saw = the client's TcpExtTCPToZeroWindowAdv" \
	"$zw_adv" "$(jq .zero_windows.peer <<<"$srv")"
check_eq "zero window: the persist probes = the server's TcpExtTCPWinProbe" \
	"$zw_probes" "$(jq .zero_windows.probes <<<"$srv")"
check_eq "zero window: closed for most of the 1.5 s stall" true "$(jq '.zero_windows.peer_ms >= 1000' <<<"$srv")"
check "zero window: evidence with the probes and the cause" grep -Eq \
	"zero [0-9]+ times?, .* in all.*this side sent $zw_probes persist probes?: the peer's application did not read" \
	<<<"$(jq -r .evidence.zero_window <<<"$srv")"
check_eq "zero window: the long one is a pair of records, reopened after more than a second" true \
	"$(records zero_window 9701 in | jq 'any(.reopened == false) and any(.reopened and .closed_us > 1000000 and .probes == '"$zw_probes"')')"
check "receiver stall: the reading client's verdict" has_verdict receiver_stall <<<"$cli"
# this side's zero windows are seen by the segments that arrive while closed: the
# long one always (the sender probes it); a brief one may reopen before any arrives
check_eq "receiver stall: 1 <= the client's own zero windows <= its TcpExtTCPToZeroWindowAdv" true \
	"$(jq --argjson adv "$zw_adv" '.zero_windows.local >= 1 and .zero_windows.local <= $adv' <<<"$cli")"
check_eq "receiver stall: closed for most of the stall" true "$(jq '.zero_windows.local_ms >= 1000' <<<"$cli")"
# the first segment after the reopening finds header prediction off (bpf/window.h)
check_eq "receiver stall: the long one is seen to reopen while the connection is open" true \
	"$(records zero_window 9701 out | jq 'any(.side == "local" and .reopened and .closed_us > 1000000)')"
check "receiver stall: evidence" grep -q 'this host advertised a zero window .*: the application on this host did not read' \
	<<<"$(jq -r .evidence.receiver_stall <<<"$cli")"
check_eq "zero window: neither end blames the network" false \
	"$(jq -s 'any(.[]; .verdict|index("loss") or index("rto_stall"))' <<<"$srv$cli")"

# resets after the close
srv=$(close_of 9703 in -1)
cli=$(close_of 9703 out -1)
check_eq "late resets: the server answered more segments after its socket was gone" true \
	"$(jq '.late_resets.sent >= 2' <<<"$srv")"
check_eq "late resets: every reset the server sent is in its close (= TcpOutRsts)" "$out_rsts" \
	"$(jq .resets_sent <<<"$srv")"
# nothing is lost from the server to the client: the client received all of them, the
# first at its socket, every later one after the socket was gone
check_eq "late resets: the client received every one the server sent, all but the first after its socket was gone" \
	"$out_rsts $((out_rsts - 1))" "$(jq -r '"\(.resets_received) \(.late_resets.received)"' <<<"$cli")"
check "late resets: the client's evidence reads like the capture" grep -Eq \
	'the peer reset the connection .*; the peer answered [0-9]+ more segments with resets after this side.s socket was gone' \
	<<<"$(jq -r .evidence.peer_reset <<<"$cli")"
check "late resets: the server's evidence" grep -Eq \
	'this host answered [0-9]+ more segments for it with resets after its socket was gone' \
	<<<"$(jq -r .evidence.local_reset <<<"$srv")"
check_eq "late resets: marked as after the close, on both ends" true \
	"$(jqs "$out" '[.[]|select(.type=="reset" and (.lport==9703 or .rport==9703) and .after_close)] | (map(select(.side=="sent"))|length) >= 2 and (map(select(.side=="received"))|length) >= 2')"

# TLS 1.2: the client's plaintext alert, seen leaving it and arriving at the server
cli=$(close_of 9704 out)
check "TLS alert sent: the client's verdict" has_verdict tls_alert <<<"$cli"
check_eq "TLS alert sent: its evidence" "this side sent the fatal TLS alert unknown_ca (48): it rejected the peer's certificate" \
	"$(jq -r .evidence.tls_alert <<<"$cli")"
check_eq "TLS alert sent: the record" "sent false fatal unknown_ca 48" \
	"$(records tls_alert 9704 out | jq -r '.[0]|"\(.side) \(.encrypted) \(.level) \(.description) \(.code)"')"
check_eq "TLS alert received: the server's record" "received false fatal unknown_ca" \
	"$(records tls_alert 9704 in | jq -r '.[0]|"\(.side) \(.encrypted) \(.level) \(.description)"')"
check "TLS alert received: the server's verdict" has_verdict tls_alert <<<"$(close_of 9704 in)"
# TLS 1.2 after the handshake: only the record type is readable
cli=$(close_of 9705 out)
check_eq "encrypted alert: the uploading client received it" true \
	"$(records tls_alert 9705 out | jq 'any(.side == "received" and .encrypted and .level == null)')"
# (whether the client still had data unacknowledged at the reset, peer_abort_mid_transfer,
# depends on timing; the reset itself does not)
check "encrypted alert: then the reset mid-upload: the client's verdicts" jq_true \
	'(.verdict|index("tls_alert")) and (.verdict|index("peer_reset"))' <<<"$cli"
check "encrypted alert: the evidence says what cannot be read" grep -Eq \
	'the peer sent an encrypted TLS alert \(its level and description are not readable\) and (then reset|ended) the connection' \
	<<<"$(jq -r .evidence.tls_alert <<<"$cli")"
check_eq "encrypted alert: the server's end sent it, then reset" true \
	"$(close_of 9705 in | jq '(.tls_alerts.sent >= 1) and (.verdict|index("tls_alert")) and (.verdict|index("local_reset"))')"

# still stuck at the end
srv=$(jqs "$out" -c '[.[]|select(.type=="close" and .still_open and .lport==9702)][0]')
cli=$(jqs "$out" -c '[.[]|select(.type=="close" and .still_open and .rport==9702)][0]')
check_eq "still stuck at the end: the server's window from the peer is closed" "true true" \
	"$(jq -r '"\(.zero_windows.peer_closed) \(.evidence.zero_window|test("still zero when tracing stopped"))"' <<<"$srv")"
check_eq "still stuck at the end: the client's own window is closed" "true true" \
	"$(jq -r '"\(.zero_windows.local_closed) \(.evidence.receiver_stall|test("still zero when tracing stopped"))"' <<<"$cli")"
# the jq recipe for stalls, on this output: the four stuck ends, each with its side's time
check_eq "jq stalls.jq: the stuck ends, the sender's time from the peer's window, the reader's from its own" \
	"9701 in true false 9701 out false true 9702 in true false 9702 out false true" \
	"$(jq -c -f "$LAB_ROOT/tools/jq/stalls.jq" "$out" | jq -rs 'sort_by(.lport == 9702 or .rport == 9702, .dir) | map("\(if .dir == "in" then .lport else .rport end) \(.dir) \(.peer_zero_ms > 0) \(.local_zero_ms > 0)") | join(" ")')"
check_json_lines "$out"
finish

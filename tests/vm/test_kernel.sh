#!/usr/bin/env bash
# Runs inside a test VM (tools/vmtest.sh) on one Debian kernel, with the static
# binary. Scenarios, kept small for an emulated CPU: start and stop; a lossy
# download; an abort, a refused port; a TLS server checked with the name curl
# sent; two namespaces. Expectations as in the integration tests: the kernel's
# own counters (nstat) equal the records, the resets and the TLS name are
# right, --netns selects one namespace. Lines starting "# " describe the kernel.
source "$(dirname "$0")/../integration/common.sh"
source "$LAB_ROOT/tools/lab_ca.sh"
need_root

ns=tvvm
lab_ns "$ns"

# 1. start: which programs and storage this kernel got, what it lacks
out="$LAB_TMP/start.json"
"$TCPVITALS" --json -d 0.5 > "$out" 2> "$LAB_TMP/start.err"
rc=$?
check_eq "starts, and stops after -d with exit 0" 0 $rc
sed 's/^/    /' "$LAB_TMP/start.err"
if [ $rc -ne 0 ]; then # why: the verifier's last words
	"$TCPVITALS" -v --json -d 0.5 2>&1 >/dev/null | grep -v -e 'relo #' -e 'found program' -e 'skipped loading' |
		tail -40 | sed 's/^/    /'
fi
echo "# start: $(head -1 "$out" | jq -c '{attach, storage, missing}')"
attach=$(head -1 "$out" | jq -r '"\(.attach) \(.storage)"')
check "the start record names the programs and storage" test "$(head -1 "$out" | jq -r '.attach != null and .storage != null')" == true
check_json_lines "$out"

# 2. a download over a lossy path: the records equal nstat
mkdir -p "$LAB_TMP/www" && head -c 3000000 /dev/urandom > "$LAB_TMP/www/file.bin"
lab_http "$ns" 127.0.0.1 8080 "$LAB_TMP/www"
out="$LAB_TMP/loss.json"
lab_tracer "$out" --json --netns "/run/netns/$ns" --port 8080
r0=$(lab_counter "$ns" TcpRetransSegs) o0=$(lab_counter "$ns" TcpExtTCPOFOQueue)
lab_loss "$ns" 8080 0.05 2>"$LAB_TMP/loss.err"
check_eq "loss: the loss rules are in place" "" "$(cat "$LAB_TMP/loss.err")"
ip netns exec "$ns" curl -sS -o /dev/null --max-time 120 http://127.0.0.1:8080/file.bin
check_eq "loss: curl's download completes" 0 $?
lab_loss_show "$ns" > "$LAB_TMP/loss.rules"
lab_loss_off "$ns"
lab_wait_quiet "$ns"
r1=$(lab_counter "$ns" TcpRetransSegs) o1=$(lab_counter "$ns" TcpExtTCPOFOQueue)
sleep 0.5
lab_tracer_stop
check "loss: the path lost segments" test $((r1 - r0)) -gt 0
[ $((r1 - r0)) -gt 0 ] || sed 's/^/# loss rules: /' "$LAB_TMP/loss.rules"
check_eq "loss: retransmit records = nstat TcpRetransSegs" $((r1 - r0)) \
	"$(jqs "$out" '[.[]|select(.type=="retransmit")|.segs]|add // 0')"
check_eq "loss: the closes' retrans_segs = nstat TcpRetransSegs" $((r1 - r0)) \
	"$(jqs "$out" '[.[]|select(.type=="close")|.retrans_segs]|add // 0')"
check_eq "loss: out-of-order records = nstat TcpExtTCPOFOQueue" $((o1 - o0)) \
	"$(jqs "$out" '[.[]|select(.type=="ofo")|.count]|add // 0')"
# a filter changes the programs' constants, never which programs the verifier takes
check_eq "loss: with --netns and --port, the same programs as without" "$attach" \
	"$(head -1 "$out" | jq -r '"\(.attach) \(.storage)"')"
check_eq "loss: curl's close names curl" curl "$(jqs "$out" -r '[.[]|select(.type=="close" and .dir=="out")][0].comm')"
check_eq "loss: the accepted end names its server" "${PY##*/}" \
	"$(jqs "$out" -r '[.[]|select(.type=="close" and .dir=="in")][0].comm')"
check_json_lines "$out"

# 3. the fallback programs: raw tracepoints with the hash storage
out="$LAB_TMP/raw.json"
lab_tracer "$out" --json --hooks raw_tp --storage hash --netns "/run/netns/$ns" --port 8080
got=$(ip netns exec "$ns" curl -sS -o /dev/null -w '%{size_header} %{size_download}' http://127.0.0.1:8080/file.bin)
lab_wait_quiet "$ns"
sleep 0.5
lab_tracer_stop
check_eq "raw_tp: loads them" "raw_tp hash" "$(head -1 "$out" | jq -r '"\(.attach) \(.storage)"')"
# the kernel's bytes_received counts the server's FIN as one (as ss -ti shows)
check_eq "raw_tp: the client's close counts every byte curl read, and the FIN" $((${got% *} + ${got#* } + 1)) \
	"$(jqs "$out" '[.[]|select(.type=="close" and .dir=="out")][0].bytes_received')"
check_json_lines "$out"

# the end of a plain HTTP/1.0 exchange (the server closes first) is no drop:
# the kernel frees the last segments of a socket going away without a reason
# before 6.6 (6.1 counted one on the server's end)
out="$LAB_TMP/ends.json"
lab_tracer "$out" --json --all --tls-check off --netns "/run/netns/$ns" --port 8080
echo small > "$LAB_TMP/www/small.txt"
for i in 1 2 3 4 5 6; do ip netns exec "$ns" curl -s -o /dev/null --http1.0 http://127.0.0.1:8080/small.txt; done
lab_wait_quiet "$ns"
sleep 0.5
lab_tracer_stop
check_eq "HTTP/1.0 ends: 12 closes, all healthy, no drop" "12 12 0" \
	"$(jqs "$out" -r '[.[]|select(.type=="close")] as $c | [.[]|select(.type=="drop")] as $d
		| "\($c|length) \([$c[]|select(.verdict==["healthy"])]|length) \($d|length)"')"

# sk_storage, asked for: a kernel whose verifier refuses it to tracing programs
# (before 5.11) is named as what refused it, to root, never as a privilege problem
"$TCPVITALS" --json --storage sk_storage --tls-check off -d 0.3 >/dev/null 2>"$LAB_TMP/sk.err"
rc=$?
if [ "$attach" == "tp_btf hash" ]; then
	check_eq "sk_storage refused: exit 3" 3 $rc
	check "sk_storage refused: one line names the program and what was tried" \
		grep -q "^tcpvitals: the kernel refused program btf_[a-z_]* (tp_btf + sk_storage): " "$LAB_TMP/sk.err"
	check_eq "sk_storage refused: that line only, and no advice to use sudo" "1 0" \
		"$(wc -l <"$LAB_TMP/sk.err") $(grep -c sudo "$LAB_TMP/sk.err")"
else
	check_eq "sk_storage: loads where the kernel offers it" 0 $rc
fi

# 4. resets: a server that aborts, a port nobody listens on
lab_pyserver "$ns" abort 127.0.0.1 9001
out="$LAB_TMP/resets.json"
lab_tracer "$out" --json --netns "/run/netns/$ns" --port 9001 --port 9002
ip netns exec "$ns" curl -s -o /dev/null http://127.0.0.1:9001/
ip netns exec "$ns" curl -s -o /dev/null http://127.0.0.1:9002/
lab_wait_quiet "$ns"
sleep 0.5
lab_tracer_stop
check_eq "resets: the aborted client received a reset" reset_received \
	"$(jqs "$out" -r '[.[]|select(.type=="close" and .rport==9001)][0].closed_by')"
check_eq "resets: the aborting server sent it" reset_sent \
	"$(jqs "$out" -r '[.[]|select(.type=="close" and .lport==9001)][0].closed_by')"
check_eq "resets: the refused connection never got established" never_established \
	"$(jqs "$out" -r '[.[]|select(.type=="close" and .rport==9002)][0].closed_by')"
check_json_lines "$out"

# 5. TLS: the server checked with the name curl sent
ca=$LAB_TMP/ca
ca_init "$ca"
ca_leaf "$ca" good media.example.test "$(ca_date '-1 day')" "$(ca_date '+400 days')"
lab_bg ip netns exec "$ns" openssl s_server -quiet -www -accept 9443 -cert "$ca/good.crt" -key "$ca/good.key" \
	-cert_chain "$ca/good.issuer.pem"
lab_wait_port "$ns" 9443
out="$LAB_TMP/tls.json"
lab_tracer "$out" --json --netns "/run/netns/$ns" --port 9443 --tls-port 9443 --ca-file "$ca/root.crt"
ip netns exec "$ns" curl -s -o /dev/null --cacert "$ca/root.crt" --resolve media.example.test:9443:127.0.0.1 \
	https://media.example.test:9443/
check_eq "tls: curl succeeds" 0 $?
lab_wait_quiet "$ns"
sleep 0.5
lab_tracer_stop
echo "# tls: $(jqs "$out" -c '[.[]|select(.type=="tls")][0]|{result, server_name, sni_source}')"
check_eq "tls: the chain verifies, checked with the name curl sent" "ok media.example.test client_hello" \
	"$(jqs "$out" -r '[.[]|select(.type=="tls")][0]|"\(.result) \(.server_name) \(.sni_source)"')"
check_json_lines "$out"

# 7. zero windows and TLS alerts over loopback: the peer's zero windows as the
# receiver counted them, and a plaintext alert read on its way out and on its way
# in (loopback leaves payload in page fragments: read through the direct map where
# kallsyms has vmemmap_base and page_offset_base, as Debian's kernels do)
lab_pyserver "$ns" bulk 127.0.0.1 9701
ca_init "$LAB_TMP/other" # a CA the client trusts instead of the server's
lab_bg ip netns exec "$ns" openssl s_server -quiet -www -tls1_2 -accept 9704 -cert "$ca/good.crt" \
	-key "$ca/good.key" -cert_chain "$ca/good.issuer.pem"
lab_wait_port "$ns" 9704
out="$LAB_TMP/signals.json"
lab_tracer "$out" --json --netns "/run/netns/$ns" --port 9701 --port 9704 --tls-port 9704 --tls-check off
z0=$(lab_counter "$ns" TcpExtTCPToZeroWindowAdv)
ip netns exec "$ns" "$PY" "$LAB_ROOT/tools/lab_server.py" slowread 127.0.0.1 9701 1.5 65536 >/dev/null
z1=$(lab_counter "$ns" TcpExtTCPToZeroWindowAdv)
echo | ip netns exec "$ns" openssl s_client -tls1_2 -connect 127.0.0.1:9704 -verify_return_error \
	-CAfile "$LAB_TMP/other/root.crt" >/dev/null 2>&1
lab_wait_quiet "$ns"
sleep 0.5
lab_tracer_stop
check_eq "signals: with --tls-check off and filters, the same programs" "$attach" \
	"$(head -1 "$out" | jq -r '"\(.attach) \(.storage)"')"
check "zero window: the receiver advertised one" test $((z1 - z0)) -gt 0
check_eq "zero window: the sender saw each (= TcpExtTCPToZeroWindowAdv)" $((z1 - z0)) \
	"$(jqs "$out" '[.[]|select(.type=="close" and .lport==9701)][0].zero_windows.peer')"
check_eq "zero window: both verdicts" "zero_window receiver_stall" \
	"$(jqs "$out" -r '[.[]|select(.type=="close" and .lport==9701)][0].verdict[0] + " " + ([.[]|select(.type=="close" and .rport==9701)][0].verdict[0])')"
check_eq "tls alert: the client's, on its way out" "sent fatal unknown_ca" \
	"$(jqs "$out" -r '[.[]|select(.type=="tls_alert" and .rport==9704)][0]|"\(.side) \(.level) \(.description)"')"
if grep -qw vmemmap_base /proc/kallsyms; then
	check_eq "tls alert: the server's, on its way in, from a page fragment" "received fatal unknown_ca" \
		"$(jqs "$out" -r '[.[]|select(.type=="tls_alert" and .lport==9704)][0]|"\(.side) \(.level) \(.description)"')"
else
	echo "# tls alert: kallsyms has no vmemmap_base: received alerts are read from linear data only"
fi
check_json_lines "$out"

# 6. --netns: traffic in two namespaces, one selected
other=tvvm2
lab_ns "$other"
lab_http "$other" 127.0.0.1 8080 "$LAB_TMP/www"
out="$LAB_TMP/netns.json"
lab_tracer "$out" --json --netns "/run/netns/$ns" --port 8080
for n in "$ns" "$other"; do ip netns exec "$n" curl -s -o /dev/null -r 0-999 http://127.0.0.1:8080/file.bin; done
lab_wait_quiet "$ns"
lab_wait_quiet "$other"
sleep 0.5
lab_tracer_stop
check_eq "--netns: only that namespace's connections" "[$(stat -L -c %i "/run/netns/$ns")]" \
	"$(jqs "$out" -c '[.[]|select(.conn)|.netns]|unique')"
check_json_lines "$out"

# 8. an agent on this kernel, as an unprivileged user once attached: the
# ring buffer and the kernel's counters (.bss) still read, a summary made
out="$LAB_TMP/agent.json"
lab_tracer "$out" --agent --user 65534:65534 --tls-check off --interval 1 --netns "/run/netns/$ns"
check_eq "agent: no capability once attached" 0000000000000000 \
	"$(awk '$1 == "CapEff:" { print $2 }' "/proc/$LAB_TRACER_PID/status")"
ip netns exec "$ns" curl -s -o /dev/null --max-time 2 http://127.0.0.1:8099/ # refused
echo small > "$LAB_TMP/www/small.txt" # whole: a range of the big file ends in a reset
ip netns exec "$ns" curl -s -o /dev/null http://127.0.0.1:8080/small.txt
sleep 2.5
lab_tracer_stop
check_eq "agent: the refused connection written" refused \
	"$(jqs "$out" -r '[.[]|select(.type=="close" and .rport==8099)][0].verdict[0]')"
check_eq "agent: a connection is written only with an anomaly" 0 \
	"$(jqs "$out" '[.[]|select(.rport==8080 or .lport==8080)]|group_by(.conn)
		|map(select(map(select(.type|IN("retransmit","ofo","dup","dupack","reset","drop","error","zero_window","tls_alert")))|length == 0))|length')"
check_eq "agent: the summaries count both connections opened by this host" 2 \
	"$(jqs "$out" '[.[]|select(.type=="summary")|.connections.opened.out]|add')"
# skipped runs: counted where the kernel lets an unprivileged process read its own
# programs' statistics (6.1 and 6.12 do, 5.10 does not); else null, said once
missed=$(jqs "$out" -c '[.[]|select(.type=="stop")][0].missed')
echo "# agent: missed $missed, unprivileged_bpf_disabled $(sysctl -n kernel.unprivileged_bpf_disabled)"
if [ "$missed" == null ]; then
	check_eq "agent: skipped runs that cannot be counted are said to be so, once" 1 \
		"$(grep -c 'does not let tcpvitals read its programs. statistics' "$out.err")"
else
	check "agent: skipped runs are counted ($missed)" test "$missed" -ge 0
	check_eq "agent: no line about them" 0 "$(grep -c 'statistics' "$out.err")"
fi
finish

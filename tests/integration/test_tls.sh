#!/usr/bin/env bash
# Scenarios: TLS servers in a namespace with certificates from a lab CA (root,
# intermediate, leaf): valid, expired leaf, expired intermediate, not yet
# valid, self-signed, wrong name, a server that never answers, plain HTTP on a
# TLS port, a server that demands a client certificate; clients curl, openssl
# s_client and Python.
# Expectations: each check reports what an expert would find by hand, with
# dates equal to what openssl x509 -enddate prints and the server name each
# client sent.
source "$(dirname "$0")/common.sh"
source "$LAB_ROOT/tools/lab_ca.sh"
need_root

ns=tvtls$$
lab_ns "$ns"
ca=$LAB_TMP/ca
ca_init "$ca"
ca_leaf "$ca" good media.example.test "$(ca_date '-1 day')" "$(ca_date '+400 days')"
ca_leaf "$ca" expired old.example.test "$(ca_date '-400 days')" "$(ca_date '-20 days')"
ca_intermediate "$ca" int_old "$(ca_date '-800 days')" "$(ca_date '-10 days')"
ca_leaf "$ca" under_old under.example.test "$(ca_date '-100 days')" "$(ca_date '+100 days')" int_old
ca_leaf "$ca" future new.example.test "$(ca_date '+10 days')" "$(ca_date '+400 days')"
ca_leaf "$ca" other other.example.test "$(ca_date '-1 day')" "$(ca_date '+90 days')"
ca_self "$ca" self self.example.test
ca_leaf "$ca" soon soon.example.test "$(ca_date '-1 day')" "$(ca_date '+30 days')"

serve() { # PORT CERTNAME [s_server options]: the server sends its leaf and the issuer
	local port=$1 name=$2 chain=()
	shift 2
	[ -f "$ca/$name.issuer.pem" ] && chain=(-cert_chain "$ca/$name.issuer.pem")
	lab_bg ip netns exec "$ns" openssl s_server -quiet -www -accept "$port" -cert "$ca/$name.crt" \
		-key "$ca/$name.key" "${chain[@]}" "$@" >/dev/null 2>&1
	lab_wait_port "$ns" "$port"
}
serve 9441 good
serve 9442 expired
serve 9443 under_old
serve 9444 future
serve 9445 self
serve 9446 other
lab_pyserver "$ns" hold 127.0.0.1 9447
mkdir -p "$LAB_TMP/www" && echo plain > "$LAB_TMP/www/index.html"
lab_http "$ns" 127.0.0.1 9448 "$LAB_TMP/www"
serve 9449 good -Verify 1
serve 9452 soon
# a hostile server: 300 copies of its intermediate, far past the 100 KB the checker accepts
for i in $(seq 300); do cat "$ca/int.crt"; done > "$ca/huge.pem"
lab_bg ip netns exec "$ns" openssl s_server -quiet -www -accept 9451 -cert "$ca/good.crt" -key "$ca/good.key" \
	-cert_chain "$ca/huge.pem" >/dev/null 2>&1
lab_wait_port "$ns" 9451
lab_http "$ns" 127.0.0.1 9450 "$LAB_TMP/www"

out=$LAB_TMP/tls.json
ports=()
for p in 9441 9442 9443 9444 9445 9446 9447 9448 9449 9451 9452; do ports+=(--tls-port $p); done
lab_tracer "$out" --json --netns "/run/netns/$ns" "${ports[@]}" --ca-file "$ca/root.crt" --tls-timeout 1500 \
	--tls-warn-days 60 \
	--tls-name 127.0.0.1:9441=media.example.test

get() { # NAME PORT: curl https://NAME:PORT/ inside the namespace
	ip netns exec "$ns" curl -s -o /dev/null -m 3 --cacert "$ca/root.crt" --resolve "$1:$2:127.0.0.1" "https://$1:$2/"
}
get media.example.test 9441
check_eq "valid: curl itself succeeds" 0 $?
get old.example.test 9442
get under.example.test 9443
get new.example.test 9444
get self.example.test 9445
get wrong.example.test 9446
get plain.example.test 9448
get media.example.test 9449
get huge.example.test 9451
get soon.example.test 9452
# the silent server: while its check waits out the deadline, other connections go on
get quiet.example.test 9447 &
quiet=$!
sleep 0.3
ip netns exec "$ns" curl -s -o /dev/null http://127.0.0.1:9450/
wait $quiet
get media.example.test 9441 # the same endpoint again: from the cache
# clients that connect and write nothing: checked after a moment, with --tls-name or the address
silent_client() { ip netns exec "$ns" "$PY" -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2]))); time.sleep(1.6); s.close()' "$@"; }
silent_client 127.0.0.1 9441 &
s1=$!
silent_client 127.0.0.2 9441 &
wait $s1 $!
echo | ip netns exec "$ns" timeout 3 openssl s_client -connect 127.0.0.1:9441 -servername shop.example.test >/dev/null 2>&1
ip netns exec "$ns" "$PY" -c '
import socket, ssl
s = socket.create_connection(("127.0.0.1", 9441))
try: ssl.create_default_context().wrap_socket(s, server_hostname="api.example.test")
except Exception: pass' 2>/dev/null
sleep 2.5
lab_tracer_stop

tls() { # PORT SNI JQ: over the tls record of the client's connection to PORT with SNI
	jqs "$out" -r --argjson p "$1" --arg n "$2" "[.[]|select(.type==\"tls\" and .rport==\$p and .server_name==\$n)][0]|$3"
}
enddate() { date -u -d "$(openssl x509 -enddate -noout -in "$ca/$1.crt" | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ; }
has_error() { # PORT SNI DEPTH CODE
	tls "$1" "$2" "any(.verify_errors[]; .depth==$3 and .code==$4)"
}

check_eq "valid: result" ok "$(tls 9441 media.example.test .result)"
check_eq "valid: server name from curl's ClientHello" client_hello "$(tls 9441 media.example.test .sni_source)"
check_eq "valid: chain as sent (leaf, intermediate)" 2 "$(tls 9441 media.example.test '.chain|length')"
check_eq "valid: verified chain ends at the root" "3 true" "$(tls 9441 media.example.test '"\(.verified_chain|length) \(.verified_chain[2].self_signed)"')"
check_eq "valid: leaf not_after = openssl x509 -enddate" "$(enddate good)" "$(tls 9441 media.example.test '.chain[0].not_after')"
check_eq "valid: intermediate not_after = openssl x509 -enddate" "$(enddate int)" "$(tls 9441 media.example.test '.chain[1].not_after')"
check_eq "valid: root not_after = openssl x509 -enddate" "$(enddate root)" "$(tls 9441 media.example.test '.verified_chain[2].not_after')"
check_eq "valid: earliest expiry is the leaf's" "$(enddate good)" "$(tls 9441 media.example.test .earliest_expiry)"
check_eq "valid: hostname matches" true "$(tls 9441 media.example.test .hostname_match)"
check_eq "valid: protocol version" TLSv1.3 "$(tls 9441 media.example.test .version)"
check_eq "valid: the close carries the result" "ok media.example.test $(enddate good)" \
	"$(jqs "$out" -r '[.[]|select(.type=="close" and .rport==9441 and .tls.server_name=="media.example.test")][0].tls|"\(.result) \(.server_name) \(.earliest_expiry)"')"

check_eq "expired leaf: verify_failed" verify_failed "$(tls 9442 old.example.test .result)"
check_eq "expired leaf: certificate has expired at depth 0" true "$(has_error 9442 old.example.test 0 10)"
check_eq "expired leaf: not_after = openssl x509 -enddate" "$(enddate expired)" "$(tls 9442 old.example.test '.chain[0].not_after')"
check_eq "expired leaf: days_left is negative" true "$(tls 9442 old.example.test '.chain[0].days_left < 0')"
check_eq "expired intermediate: certificate has expired at depth 1" true "$(has_error 9443 under.example.test 1 10)"
check_eq "expired intermediate: its not_after" "$(enddate int_old)" "$(tls 9443 under.example.test '.chain[1].not_after')"
check_eq "not yet valid: certificate is not yet valid at depth 0" true "$(has_error 9444 new.example.test 0 9)"
check_eq "self-signed: error 18 at depth 0" true "$(has_error 9445 self.example.test 0 18)"
check_eq "self-signed: marked self_signed, nothing verified" "true null" "$(tls 9445 self.example.test '"\(.chain[0].self_signed) \(.verified_chain)"')"
check_eq "wrong name: hostname mismatch (62) and hostname_match false" "true false" \
	"$(tls 9446 wrong.example.test '"\(any(.verify_errors[]; .code==62)) \(.hostname_match)"')"
check_eq "plain HTTP on a TLS port: not_tls" not_tls "$(tls 9448 plain.example.test .result)"
check_eq "client certificate demanded: the chain is still reported" "$(enddate good)" \
	"$(tls 9449 media.example.test '.chain[0].not_after')"
check_eq "hostile server: a certificate list over the limit is refused" "handshake_failed true" \
	"$(tls 9451 huge.example.test '"\(.result) \(.error|test("excessive message size"))"')"
check_eq "silent server: timeout" timeout "$(tls 9447 quiet.example.test .result)"
check_eq "silent server: within the deadline plus 0.5 s" true "$(tls 9447 quiet.example.test '.duration_ms <= 2000')"
check_eq "silent server: other connections reported meanwhile" true \
	"$(jqs "$out" '(map(.type=="close" and .rport==9450)|index(true)) < (map(.type=="tls" and .rport==9447)|index(true))')"
check_eq "openssl s_client: its -servername captured" client_hello "$(tls 9441 shop.example.test .sni_source)"
check_eq "python: its server_hostname captured" client_hello "$(tls 9441 api.example.test .sni_source)"
check_eq "a second connection gets the cached result" "false true" \
	"$(jqs "$out" -r '[.[]|select(.type=="tls" and .rport==9441 and .server_name=="media.example.test" and .sni_source=="client_hello")]|"\(.[0].cached) \(.[1].cached)"')"
check_eq "no ClientHello: the --tls-name name is checked" "option ok" \
	"$(jqs "$out" -r '[.[]|select(.type=="tls" and .raddr=="127.0.0.1" and .sni_source=="option")][0]|"\(.sni_source) \(.result)"')"
check_eq "no ClientHello, no --tls-name: checked against the address, which the leaf does not name" "none false true" \
	"$(jqs "$out" -r '[.[]|select(.type=="tls" and .raddr=="127.0.0.2")][0]|"\(.sni_source) \(.hostname_match) \(.server_name == null)"')"
# the TLS verdicts of the client's close whose check used SNI (curl itself resets a
# connection whose certificate it rejects, with the server's data unread: local_reset)
verdict() { # PORT SNI
	jqs "$out" -r --argjson p "$1" --arg n "$2" \
		'[.[]|select(.type=="close" and .rport==$p and .tls.server_name==$n)][0].verdict|map(select(startswith("tls_") or .=="healthy"))|join(",")'
}
check_eq "verdict: a valid chain is healthy" healthy \
	"$(jqs "$out" -r '[.[]|select(.type=="close" and .rport==9441 and .tls.server_name=="media.example.test")][0].verdict|join(",")')"
check_eq "verdict: expired leaf" tls_alert,tls_expired "$(verdict 9442 old.example.test)"
check_eq "verdict: expired intermediate" tls_alert,tls_expired "$(verdict 9443 under.example.test)"
check_eq "verdict: not yet valid" tls_alert,tls_not_yet_valid "$(verdict 9444 new.example.test)"
check_eq "verdict: self-signed" tls_alert,tls_untrusted "$(verdict 9445 self.example.test)"
check_eq "verdict: wrong name" tls_hostname_mismatch "$(verdict 9446 wrong.example.test)"
check_eq "verdict: a hostile server's handshake" tls_alert,tls_handshake_failed "$(verdict 9451 huge.example.test)"
# curl refused each of those chains itself, with a plaintext alert that says why
alert() { # PORT SNI: the alert the client sent, from its verdict's evidence
	jqs "$out" -r --argjson p "$1" --arg n "$2" \
		'[.[]|select(.type=="close" and .rport==$p and .tls.server_name==$n)][0].evidence.tls_alert' |
		sed -n 's/^this side sent the fatal TLS alert \([a-z_]* ([0-9]*)\).*/\1/p'
}
check_eq "the client's own alert: expired leaf" "certificate_expired (45)" "$(alert 9442 old.example.test)"
check_eq "the client's own alert: expired intermediate" "certificate_expired (45)" "$(alert 9443 under.example.test)"
check_eq "the client's own alert: not yet valid" "bad_certificate (42)" "$(alert 9444 new.example.test)"
check_eq "the client's own alert: self-signed" "unknown_ca (48)" "$(alert 9445 self.example.test)"
check_eq "verdict: a silent server" tls_timeout \
	"$(jqs "$out" -r '[.[]|select(.type=="close" and .rport==9447)][0].verdict|join(",")')"
check_eq "verdict: expires in 30 days, --tls-warn-days 60" tls_expiring_soon "$(verdict 9452 soon.example.test)"
check "verdict: its evidence gives the date and the days" grep -q 'expires on .*, in 29 days (warning from 60 days)' \
	<<<"$(jqs "$out" -r '[.[]|select(.type=="close" and .rport==9452)][0].evidence.tls_expiring_soon')"
check_eq "the checker's own connections are not reported" 0 \
	"$(jqs "$out" --argjson me "$LAB_TRACER_PID" '[.[]|select(.pid==$me)]|length')"
# the lab servers' ends: each accepted connection reported has its client end reported too;
# the servers' ends of the checker's connections (whose client end is ours) are not reported
check "the local servers' ends of the checker's connections are not reported" test "$(jqs "$out" '
	[.[]|select(.type=="close")] as $c
	| [$c[]|select(.dir=="in")] | length > 0 and all(. as $i | any($c[]; .dir=="out" and .lport==$i.rport and .rport==$i.lport))')" == true
check_json_lines "$out"

# the jq recipes in tools/jq run on real output and find what they promise
recipe() { jq -c "${@:2}" -f "$LAB_ROOT/tools/jq/$1.jq" "$out"; }
check_eq "jq recipe tls_failures: the expired leaf's error" true \
	"$(recipe tls_failures | jq -s 'any(.server_name=="old.example.test" and (.errors|index("certificate has expired (depth 0)")))')"
check_eq "jq recipe tls_expiring: the 90-day leaf within 100 days, the 400-day one not" "true false" \
	"$(recipe tls_expiring --argjson days 100 | jq -s -r '"\(any(.subject|test("other.example.test"))) \(any(.subject|test("media.example.test")))"')"
check_eq "jq recipe worst_endpoints: one row per endpoint" true \
	"$(jq -s -f "$LAB_ROOT/tools/jq/worst_endpoints.jq" "$out" | jq 'length > 0 and all(has("endpoint") and has("retrans_segs"))')"
for r in retransmits resets lost; do
	recipe $r >/dev/null && ok "jq recipe $r runs" || not_ok "jq recipe $r fails"
done

# text: the timeline's tls line; --tls-check off: no checks at all
txt=$LAB_TMP/tls.txt
lab_tracer "$txt" --all --netns "/run/netns/$ns" --tls-port 9441 --tls-port 9442 --ca-file "$ca/root.crt" --tls-warn-days 500
get media.example.test 9441
get old.example.test 9442
sleep 1
lab_tracer_stop
check "text: the tls line names the chain and its dates" grep -q \
	"tls  media.example.test: chain verified; leaf expires $(enddate good | cut -dT -f1) (in [0-9]* d), intermediate $(enddate int | cut -dT -f1), root $(enddate root | cut -dT -f1)" "$txt"
check "text: an expired leaf, and the sent chain's last certificate called intermediate" grep -q \
	"tls  old.example.test: verification failed: certificate has expired (depth 0); leaf expired $(enddate expired | cut -dT -f1) (20 d ago), intermediate $(enddate int | cut -dT -f1)" "$txt"
check "text: --tls-warn-days flags the leaf that expires within 500 days" grep -q "!! a certificate expires within 500 days" "$txt"
raw=$LAB_TMP/raw.json
"$TCPVITALS" --json --hooks raw_tp --tls-port 9441 --ca-file "$ca/root.crt" -- ip netns exec "$ns" \
	curl -s -o /dev/null --cacert "$ca/root.crt" --resolve media.example.test:9441:127.0.0.1 \
	https://media.example.test:9441/ > "$raw" 2>/dev/null
check_eq "raw_tp programs and -- COMMAND: the ClientHello is read and checked too" "raw_tp client_hello ok ok" \
	"$(jqs "$raw" -r '"\(.[0].attach) \([.[]|select(.type=="tls")][0]|"\(.sni_source) \(.result)") \([.[]|select(.type=="close")][0].tls.result)"')"
off=$LAB_TMP/off.json
lab_tracer "$off" --json --netns "/run/netns/$ns" --tls-port 9441 --tls-check off
get media.example.test 9441
sleep 1
lab_tracer_stop
check_eq "--tls-check off: no tls records, one client connection" "0 1" \
	"$(jqs "$off" -r '"\([.[]|select(.type=="tls")]|length) \([.[]|select(.type=="close" and .rport==9441)]|length)"')"
finish

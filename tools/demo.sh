#!/usr/bin/env bash
# sudo make demo: what tcpvitals shows for two classic failures, in a throwaway
# namespace (removed at exit): a download over a path losing 2% of segments, and
# a TLS server whose certificate expired 20 days ago.
set -u
source "$(dirname "$0")/lab.sh"
source "$(dirname "$0")/lab_ca.sh"

ns=tvdemo$$
lab_ns "$ns" || exit 1
ip -n "$ns" link set dev lo gso_max_segs 1 # one MSS per packet, as on a wire
mkdir -p "$LAB_TMP/www"
head -c 20000000 /dev/urandom > "$LAB_TMP/www/feed.bin"
lab_http "$ns" 127.0.0.1 8080 "$LAB_TMP/www" || exit 1
lab_loss "$ns" 8080 0.02
ca_init "$LAB_TMP/ca" && ca_leaf "$LAB_TMP/ca" old old.example.test "$(ca_date '-400 days')" "$(ca_date '-20 days')"
lab_bg ip netns exec "$ns" openssl s_server -quiet -www -accept 8443 -cert "$LAB_TMP/ca/old.crt" \
	-key "$LAB_TMP/ca/old.key" -cert_chain "$LAB_TMP/ca/old.issuer.pem" >/dev/null 2>&1
lab_wait_port "$ns" 8443 || exit 1

echo "== sudo tcpvitals -- curl http://127.0.0.1:8080/feed.bin   (2% loss each way)"
"$TCPVITALS" -- ip netns exec "$ns" curl -sS -o /dev/null http://127.0.0.1:8080/feed.bin
echo
echo "== sudo tcpvitals --ca-file root.crt -- curl -k https://old.example.test:8443/   (expired leaf)"
"$TCPVITALS" --ca-file "$LAB_TMP/ca/root.crt" -- ip netns exec "$ns" curl -sk -o /dev/null \
	--resolve old.example.test:8443:127.0.0.1 https://old.example.test:8443/

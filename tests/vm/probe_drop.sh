#!/usr/bin/env bash
# temporary: which drops does a plain HTTP exchange show on this kernel?
source "$(dirname "$0")/../integration/common.sh"
need_root
ns=tvdrop
lab_ns "$ns"
mkdir -p "$LAB_TMP/www" && head -c 3000 /dev/urandom > "$LAB_TMP/www/f"
lab_http "$ns" 127.0.0.1 8080 "$LAB_TMP/www"
out="$LAB_TMP/d.json"
lab_tracer "$out" --json --all --tls-check off --netns "/run/netns/$ns"
ip netns exec "$ns" curl -sS -o /dev/null http://127.0.0.1:8080/f
ip netns exec "$ns" curl -sS -o /dev/null --http1.0 http://127.0.0.1:8080/f
lab_wait_quiet "$ns"
sleep 0.5
lab_tracer_stop
echo "=== drops"
jq -c 'select(.type=="drop")' "$out"
echo "=== closes"
jq -c 'select(.type=="close") | {dir, lport, rport, closed_by, last_state, drops, verdict}' "$out"
echo "=== kallsyms"
grep -w -e tcp_rcv_state_process -e tcp_drop_reason -e kfree_skb_reason -e tcp_v4_do_rcv /proc/kallsyms | head
ok "probe ran"
finish

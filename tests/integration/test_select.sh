#!/usr/bin/env bash
# Scenario: traffic in two namespaces at once, from several processes.
# Expectation: --netns, --port, --pid and -- COMMAND select exactly the
# connections they name, and -- COMMAND exits with COMMAND's status.
source "$(dirname "$0")/common.sh"
need_root

a=tvsela$$
b=tvselb$$
lab_ns "$a"
lab_ns "$b"
mkdir -p "$LAB_TMP/www"
echo hello > "$LAB_TMP/www/index.html"
for ns in "$a" "$b"; do
	lab_http "$ns" 127.0.0.1 8001 "$LAB_TMP/www"
	lab_http "$ns" 127.0.0.1 8002 "$LAB_TMP/www"
done
ino_a=$(stat -L -c %i "/run/netns/$a")

# Every raw record the kernel handed over (--record) for a connection:
# "lport rport raddr comm traced type state" (traced: the owner is a --pid process or its
# descendant; type: the record type number; state: the new state of a state record).
# tv_hdr is 16 bytes; tv_conn follows (bpf/tcpvitals.h): daddr at 32, sport and dport
# at 48, family at 52, owner_flags at 54, comm at 56.
raw_conns() {
	"$PY" - "$1" <<'PYEOF'
import struct, sys
data = open(sys.argv[1], "rb").read()
pos = 0
while pos + 4 <= len(data):
    n, = struct.unpack_from("=I", data, pos)
    rec = data[pos + 4:pos + 4 + n]
    pos += 4 + n
    if len(rec) < 88:
        continue
    sport, dport = struct.unpack_from("=HH", rec, 16 + 48)
    daddr = ".".join(str(b) for b in rec[16 + 32:16 + 36]) if rec[16 + 52] == 4 else "v6"
    known = rec[16 + 54] & 1
    comm = rec[16 + 56:16 + 72].split(b"\0")[0].decode(errors="replace") if known else "?"
    rtype, = struct.unpack_from("=H", rec, 0)
    print(sport, dport, daddr, comm, (rec[16 + 54] >> 1) & 1, rtype, rec[89] if rtype == 1 else "-")
PYEOF
}

# background noise in both namespaces, on both ports, until the test ends
noise() { while :; do ip netns exec "$1" curl -s -o /dev/null "http://${3:-127.0.0.1}:$2/"; sleep 0.05; done; }
lab_bg noise "$a" 8001
lab_bg noise "$a" 8002
lab_bg noise "$b" 8001
lab_bg noise "$a" 8001 127.0.0.2 # refused: nothing listens on 127.0.0.2

outns="$LAB_TMP/netns.json"
lab_tracer "$outns" --json --netns "/run/netns/$a" -d 1.5
wait "$LAB_TRACER_PID"
check_eq "--netns: every connection is in that namespace" "[$ino_a]" \
	"$(jqs "$outns" -c '[.[]|select(.conn)|.netns]|unique')"
check_eq "--netns: both ports seen" "[8001,8002]" \
	"$(jqs "$outns" -c '[.[]|select(.type=="close" and .dir=="out")|.rport]|unique')"
check_json_lines "$outns"
check_eq "--netns: the refused noise to 127.0.0.2 is there" true \
	"$(jqs "$outns" 'any(.[]; .type=="close" and .raddr=="127.0.0.2")')"

outraddr="$LAB_TMP/raddr.json"
lab_tracer "$outraddr" --json --netns "$ino_a" --raddr 127.0.0.1/32 --raddr 2001:db8::/32 -d 1.5 \
	--record "$LAB_TMP/raddr.rec"
wait "$LAB_TRACER_PID"
check_eq "--raddr: only remote 127.0.0.1" true \
	"$(jqs "$outraddr" '[.[]|select(.conn)] | length > 0 and all(.raddr=="127.0.0.1")')"
check_eq "--raddr: the kernel hands over no record of the refused connections to 127.0.0.2" 0 \
	"$(raw_conns "$LAB_TMP/raddr.rec" | awk '$3 != "127.0.0.1"' | wc -l)"

outport="$LAB_TMP/port.json"
lab_tracer "$outport" --json --netns "$ino_a" --port 8002 --record "$LAB_TMP/port.rec" -d 1.5
wait "$LAB_TRACER_PID"
check_eq "--port: only port 8002 (local or remote)" true \
	"$(jqs "$outport" '[.[]|select(.conn)] | length > 0 and all(.lport==8002 or .rport==8002)')"
check_json_lines "$outport"
others=$(raw_conns "$LAB_TMP/port.rec" | awk '$1 != 8002 && $2 != 8002')
[ -z "$others" ] || echo "# records of other ports (lport rport raddr comm traced type state): $others"
check_eq "--port: the kernel hands over no record of another port's connections" 0 \
	"$(printf '%s' "$others" | grep -c .)"

outcomm="$LAB_TMP/comm.json"
lab_tracer "$outcomm" --json --netns "$ino_a" --comm curl --record "$LAB_TMP/comm.rec" -d 1.5
wait "$LAB_TRACER_PID"
check_eq "--comm: only curl's connections (the Python servers' are left out)" true \
	"$(jqs "$outcomm" '[.[]|select(.type=="close")] | length > 0 and all(.comm=="curl")')"
check_eq "--comm: the kernel hands over no record of another process's connections" 0 \
	"$(raw_conns "$LAB_TMP/comm.rec" | awk '$4 != "curl" && $4 != "?"' | wc -l)"

# --pid: a shell whose children make the requests; its descendants count, others do not
lab_bg bash -c 'while :; do ip netns exec '"$b"' curl -s -o /dev/null http://127.0.0.1:8002/; sleep 0.05; done'
shell=${LAB_PIDS[-1]}
outpid="$LAB_TMP/pid.json"
lab_tracer "$outpid" --json --pid "$shell" -d 1.5 --record "$LAB_TMP/pid.rec"
wait "$LAB_TRACER_PID"
check_eq "--pid: the kernel hands over no record of another process's connections" 0 \
	"$(raw_conns "$LAB_TMP/pid.rec" | awk '$4 != "?" && $5 != 1' | wc -l)"
check_eq "--pid: only the shell's descendants' connections (curl to 8002 in $b)" true \
	"$(jqs "$outpid" '[.[]|select(.type=="close")] | length > 0 and all(.comm=="curl" and .rport==8002 and .dir=="out")')"
kill "$shell"
check_json_lines "$outpid"

# -- COMMAND: only its connection, and its exit status
outcmd="$LAB_TMP/cmd.json"
"$TCPVITALS" --json -- ip netns exec "$b" curl -s -o /dev/null http://127.0.0.1:8001/ > "$outcmd" 2>"$outcmd.err"
check_eq "-- COMMAND: exits with the command's status" 0 $?
check_eq "-- COMMAND: exactly one connection, the command's" "1 curl 8001" \
	"$(jqs "$outcmd" -r '[.[]|select(.type=="close")] | "\(length) \(.[0].comm) \(.[0].rport)"')"
check_json_lines "$outcmd"
"$TCPVITALS" --json -- ip netns exec "$b" curl -s -o /dev/null http://127.0.0.1:8009/ > "$outcmd" 2>"$outcmd.err"
check_eq "-- COMMAND: a failing command's status is passed on" 7 $?
check_eq "-- COMMAND: the refused connection is reported" never_established \
	"$(jqs "$outcmd" -r '[.[]|select(.type=="close")][0].closed_by')"
# -- COMMAND that prints to stdout: curl and Python write their output while the records stream
mkdir -p "$LAB_TMP/www" && echo "page body" > "$LAB_TMP/www/page.txt"
lab_http "$b" 127.0.0.1 8003 "$LAB_TMP/www"
"$TCPVITALS" --json -- ip netns exec "$b" sh -c "curl -s http://127.0.0.1:8003/page.txt; $PY -c 'print(\"from python\")'; curl -s http://127.0.0.1:8003/page.txt" \
	> "$outcmd" 2>"$outcmd.err"
check_eq "--json -- COMMAND: stdout holds only JSON Lines" 0 "$(jq -R 'fromjson? // "x" | select(. == "x")' "$outcmd" | wc -l)"
check_eq "--json -- COMMAND: the command's output goes to stderr, in its order" "page body|from python|page body" \
	"$(grep -v '^tcpvitals' "$outcmd.err" | paste -sd'|')"
check_eq "--json -- COMMAND: both of curl's connections reported" 2 "$(jqs "$outcmd" '[.[]|select(.type=="close" and .rport==8003)]|length')"
check_json_lines "$outcmd"
# -o FILE: the records go to the file, and the command keeps its stdout
"$TCPVITALS" --json -o "$LAB_TMP/records.json" -- ip netns exec "$b" curl -s http://127.0.0.1:8003/page.txt \
	> "$outcmd" 2>"$outcmd.err"
check_eq "-o FILE: the command's output stays on stdout" "page body" "$(cat "$outcmd")"
check_eq "-o FILE: the records are in the file" 1 "$(jqs "$LAB_TMP/records.json" '[.[]|select(.type=="close" and .rport==8003)]|length')"
check_eq "-o FILE: created with mode 640" 640 "$(stat -c %a "$LAB_TMP/records.json")"
check_json_lines "$LAB_TMP/records.json"
"$TCPVITALS" --json -o "$LAB_TMP/records.json" -- ip netns exec "$b" curl -s -o /dev/null http://127.0.0.1:8003/page.txt \
	> /dev/null 2>&1
check_eq "-o FILE: a second run appends" 2 "$(jqs "$LAB_TMP/records.json" '[.[]|select(.type=="start")]|length')"
"$TCPVITALS" --json -o "$LAB_TMP/no/such/dir/x.json" -- touch "$LAB_TMP/ran" >/dev/null 2>"$outcmd.err"
check_eq "-o FILE that cannot be created: exit 2" 2 $?
check_eq "-o FILE that cannot be created: one line naming it" 1 "$(grep -c -- "--output $LAB_TMP/no/such/dir/x.json" "$outcmd.err")"
check "-o FILE that cannot be created: COMMAND never ran" test ! -e "$LAB_TMP/ran"
"$TCPVITALS" -- /nonexistent/command > "$outcmd" 2>"$outcmd.err"
check_eq "-- COMMAND: a command that cannot run exits 127" 127 $?
check_eq "-- COMMAND: says so in one line" 1 "$(grep -c 'cannot run /nonexistent/command' "$outcmd.err")"
finish

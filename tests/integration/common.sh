#!/usr/bin/env bash
# Shared by the integration tests: the lab plus result reporting.
# Each check prints "ok - NAME" or "not ok - NAME"; tests/run.sh counts them.
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lab.sh"

T_FAILED=0
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; T_FAILED=1; }
# check NAME EXPECTED ACTUAL
check_eq() {
	if [ "$2" == "$3" ]; then ok "$1 ($3)"; else not_ok "$1: expected '$2', got '$3'"; fi
}
check() { # check NAME COMMAND...
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}
# Skip the whole file (exit 77) where the machine cannot run it; CI counts a skip as a failure.
need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "skip - $(basename "$0"): needs root"
		exit 77
	fi
}
# jq over the JSON Lines in $1
jqs() { local f=$1; shift; jq -s "$@" "$f"; }
# Every line is a JSON object with type and ts; connection records carry the connection keys.
check_json_lines() {
	local f=$1 bad
	bad=$(jq -R -c 'fromjson? // "UNPARSABLE"
		| if . == "UNPARSABLE" then .
		  elif (.type|type) != "string" or (.ts|type) != "string" or (.ts|test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$")|not) then {bad: .}
		  elif (.type|IN("start","stop","lost")) then empty
		  elif .type == "report" then (if (.connections|type) == "number" and (.diagnosis|type) == "string"
						  and (.other or ((.port|type) == "number" and (.dir|IN("in","out","unknown"))))
						then empty else {bad: .} end)
		  elif ([.conn,.netns,.lport,.rport]|all(type=="number")) and (.family|IN("ipv4","ipv6")) and (.dir|IN("in","out","unknown")) and (.laddr|type)=="string" and (.raddr|type)=="string" and has("pid") and has("comm") then empty
		  else {bad: .} end' "$f" | head -3)
	if [ -z "$bad" ] && [ "$(head -1 "$f" | jq -r .type)" == start ] &&
		[ "$(tail -1 "$f" | jq -c '[.type, (keys - ["ts"])]')" == '["stop",["connections","evicted","lost","missed","records","rejected","type","unkept"]]' ]; then
		ok "every line of $(basename "$f") is JSON with the common keys, start first, stop last"
	else
		not_ok "malformed JSON lines in $(basename "$f"): $bad"
	fi
}
finish() { exit $T_FAILED; }

#!/usr/bin/env bash
# Runs every unit test binary and integration script, counts "ok"/"not ok"
# lines, and ends with the summary line "N passed, N failed".
# A script that exits 77 skipped (it needs root); under CI=true a skip is a failure.
set -u
cd "$(dirname "$0")/.."
passed=0 failed=0 skipped=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run_one() { # NAME COMMAND...
	local name=$1 rc p f
	shift
	"$@" >"$log" 2>&1
	rc=$?
	p=$(grep -c '^ok - ' "$log")
	f=$(grep -c '^not ok - ' "$log")
	if [ $rc -eq 77 ]; then
		if [ "${CI:-}" == true ]; then
			echo "FAIL $name: skipped, and CI must run every test"
			failed=$((failed + 1))
		else
			echo "SKIP $name: $(grep '^skip' "$log" | head -1)"
			skipped=$((skipped + 1))
		fi
		return
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		failed=$((failed + 1)) # crashed or failed without saying which check
		f=1
	fi
	if [ "$f" -gt 0 ]; then
		echo "FAIL $name"
		sed 's/^/    /' "$log"
	else
		echo "PASS $name ($p checks)"
	fi
}

for t in build/tests/test_*; do
	[ -x "$t" ] && run_one "unit/$(basename "$t")" "$t"
done
for t in tests/integration/test_*.sh; do
	run_one "integration/$(basename "$t" .sh)" bash "$t"
done

if [ $skipped -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ $failed -eq 0 ]

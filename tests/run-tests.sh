#!/bin/bash
# run-tests.sh - run test binaries (cmocka unit tests, integration tests), print one summary line.
# Usage: tests/run-tests.sh BINARY...
# A binary fails when it exits non-zero, which cmocka does on a failed test
# and the sanitizers do on any report. The last line counts test cases.
#
# TEST_JOBS binaries run at once (default 2: the integration tests mostly
# wait on timers and on their redis-server, and each has its own ports and
# directory); the longest, given first by the Makefile, starts first. Each
# binary's output is printed whole when it ends, with its wall time.

set -u
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1:strict_string_checks=1}"
UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export ASAN_OPTIONS UBSAN_OPTIONS
jobs_max="${TEST_JOBS:-2}"

# Run one binary into its log; its exit status and seconds into .rc.
run_one() {
	local bin=$1 start rc
	start=$(date +%s)
	"$bin" >"${bin}.log" 2>&1
	rc=$?
	echo "$rc $(( $(date +%s) - start ))" >"${bin}.rc"
}

# Print a finished binary's log and add its counts.
passed=0
failed=0
bad_bins=""
report() {
	local bin=$1 name rc secs p f
	name=$(basename "$bin")
	read -r rc secs <"${bin}.rc"
	echo "=== $name"
	cat "${bin}.log"
	echo "=== $name: ${secs} s"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test(s)\./\1/p' "${bin}.log" | awk '{s+=$1} END {print s+0}')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test(s), listed below:/\1/p' "${bin}.log" | awk '{s+=$1} END {print s+0}')
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$rc" -ne 0 ]; then
		bad_bins="$bad_bins $name"
		# A crash or sanitizer report without a cmocka verdict still fails.
		[ "$f" -eq 0 ] && failed=$((failed + 1))
	fi
}

declare -A running=()
# Wait for one running binary to end and report it.
reap_one() {
	local pid
	wait -n "${!running[@]}" 2>/dev/null
	for pid in "${!running[@]}"; do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null
			report "${running[$pid]}"
			unset "running[$pid]"
		fi
	done
}

for bin in "$@"; do
	rm -f "${bin}.rc"
	while [ "${#running[@]}" -ge "$jobs_max" ]; do
		reap_one
	done
	run_one "$bin" &
	running[$!]=$bin
done
while [ "${#running[@]}" -gt 0 ]; do
	reap_one
done
if [ -n "$bad_bins" ]; then
	echo "failing:$bad_bins"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ -z "$bad_bins" ]

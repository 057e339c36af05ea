#!/bin/sh
# run-tests.sh - run test binaries (cmocka unit tests, integration tests), print one summary line.
# Usage: tests/run-tests.sh BINARY...
# A binary fails when it exits non-zero, which cmocka does on a failed test
# and the sanitizers do on any report. The last line counts test cases.

set -u
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1:strict_string_checks=1}"
UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export ASAN_OPTIONS UBSAN_OPTIONS

passed=0
failed=0
bad_bins=""
for bin in "$@"; do
	name=$(basename "$bin")
	log="${bin}.log"
	echo "=== $name"
	start=$(date +%s)
	"$bin" >"$log" 2>&1
	rc=$?
	cat "$log"
	echo "=== $name: $(( $(date +%s) - start )) s"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test(s)\./\1/p' "$log" | awk '{s+=$1} END {print s+0}')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test(s), listed below:/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$rc" -ne 0 ]; then
		bad_bins="$bad_bins $name"
		# A crash or sanitizer report without a cmocka verdict still fails.
		[ "$f" -eq 0 ] && failed=$((failed + 1))
	fi
done
if [ -n "$bad_bins" ]; then
	echo "failing:$bad_bins"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ -z "$bad_bins" ]

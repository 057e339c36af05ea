#!/bin/sh
# run-fuzz.sh - run libFuzzer targets for a while each, one summary line per target.
# Usage: tests/fuzz/run-fuzz.sh SECONDS NAME:MAX_LEN...
# Runs build/fuzz/fuzz_NAME with tests/fuzz/NAME.dict on build/fuzz/corpus-NAME,
# a copy of tests/fuzz/corpus/NAME that keeps what the fuzzer adds, so the
# repository's corpus is never written. A crash, leak, UB report, timeout or
# out-of-memory is written to build/fuzz/NAME-crash-* (or leak-, timeout-,
# oom-) and fails the run; add it to tests/fuzz/corpus/NAME/ once fixed.

set -u
# Leaks inside libconfig itself are not ours: see tests/fuzz/lsan.supp.
LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=tests/fuzz/lsan.supp:print_suppressions=0}"
export LSAN_OPTIONS
secs=$1
shift
dir=build/fuzz
failed=""
for spec in "$@"; do
	name=${spec%%:*}
	max_len=${spec#*:}
	corpus="$dir/corpus-$name"
	log="$dir/fuzz_$name.log"
	mkdir -p "$corpus"
	cp tests/fuzz/corpus/"$name"/* "$corpus"/
	"$dir/fuzz_$name" -max_total_time="$secs" -max_len="$max_len" \
	    -timeout=10 -rss_limit_mb=2048 -dict="tests/fuzz/$name.dict" \
	    -artifact_prefix="$dir/$name-" -print_final_stats=1 \
	    "$corpus" </dev/null >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	size=$(ls "$corpus" | wc -l)
	if [ "$rc" -eq 0 ]; then
		echo "fuzz_$name: ${runs:-0} runs in $secs s, corpus $size inputs, no findings"
		continue
	fi
	echo "fuzz_$name: FAILED (exit $rc) after ${runs:-?} runs; log $log"
	grep -aE '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|.*invariant broken|artifact_prefix|Test unit written)' \
	    "$log" | head -20
	failed="$failed fuzz_$name"
done
if [ -n "$failed" ]; then
	echo "fuzzing found problems in:$failed"
	exit 1
fi

#!/bin/sh
# A fuzzing campaign over the targets built by `make fuzz`, one at a time,
# at low priority:
#   test/fuzz/campaign.sh [-runs N] [name...]   (default: all)
# Each target runs for N executions (default 10000000; FUZZ_MAX_TIME=seconds
# stops it earlier) over a working copy
# of its corpus (test/fuzz/work/<name>/, kept between campaigns) seeded from
# test/fuzz/corpus/<name>/ and its dictionary test/fuzz/dict/<name>.dict if
# there is one. A crash, leak, timeout or failed property stops the target
# and leaves the input in test/fuzz/artifacts/. Prints one line per target:
# executions, exec/s, seconds, corpus size, result; the full libFuzzer log
# is test/fuzz/work/<name>.log. Add what a campaign found to the seed corpus
# with `-merge=1` (see test/fuzz/README.md).
set -u
cd "$(dirname "$0")/../.."
runs=10000000
if [ "${1:-}" = -runs ]; then runs=$2; shift 2; fi
targets=${*:-$(ls test/fuzz/fuzz_*.c | sed 's|.*/fuzz_||; s|\.c$||')}
mkdir -p test/fuzz/work test/fuzz/artifacts
printf '%-10s %12s %8s %7s %8s  %s\n' target execs exec/s seconds corpus result
for t in $targets; do
    bin=test/fuzz/fuzz_$t
    [ -x "$bin" ] || { echo "$t: $bin not built (./configure CC=clang && make fuzz)"; continue; }
    mkdir -p "test/fuzz/work/$t"
    dict=""
    [ -f "test/fuzz/dict/$t.dict" ] && dict="-dict=test/fuzz/dict/$t.dict"
    start=$(date +%s)
    nice -n 10 "$bin" -runs="$runs" -max_len=4096 -timeout=30 -rss_limit_mb=2048 \
        ${FUZZ_MAX_TIME:+-max_total_time=$FUZZ_MAX_TIME} -print_final_stats=1 -artifact_prefix="test/fuzz/artifacts/$t-" $dict \
        "test/fuzz/work/$t" "test/fuzz/corpus/$t" >"test/fuzz/work/$t.log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "test/fuzz/work/$t.log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "test/fuzz/work/$t.log" | tail -n 1)
    size=$(ls "test/fuzz/work/$t" | wc -l)
    if [ $rc = 0 ]; then result=clean; else
        result="FOUND: $(grep -m1 -E 'ERROR: |runtime error|SUMMARY' "test/fuzz/work/$t.log" | cut -c1-100)"
    fi
    printf '%-10s %12s %8s %7s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "$secs" "$size" "$result"
done

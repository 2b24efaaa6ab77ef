#!/usr/bin/env bash
# Runs the libFuzzer targets of Fuzz/ (see SECURITY.md, "Fuzzing").
#
#   scripts/fuzz.sh SECONDS [merge]
#
# Builds FuzzLineProtocol and FuzzVGI1 with -sanitize=fuzzer,address, then runs each for
# SECONDS on a copy of its committed corpus (Fuzz/Corpus/<name>) plus what earlier runs
# found (.build/fuzz/<name>), with a fixed seed. A crash, a sanitizer report or a broken
# invariant stops the run, leaves the input in .build/fuzz/artifacts/ and exits non-zero.
# With `merge`, the committed corpus is replaced by a minimized merge of both.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
merge=${2:-}
swift=${SWIFT:-swift}
work=$PWD/.build/fuzz
mkdir -p "$work/artifacts"
(cd Fuzz && for target in FuzzLineProtocol FuzzVGI1 FuzzControl; do
    "$swift" build -c debug -Xswiftc -sanitize=fuzzer,address --product "$target" 2>&1 \
        | grep -v -e 'Cannot export local symbol' -e '^\[' || true
done)
status=0
for pair in FuzzLineProtocol:line-protocol FuzzVGI1:vgi1 FuzzControl:control; do
    target=${pair%%:*}
    name=${pair##*:}
    found="$work/$name"
    mkdir -p "$found"
    log="$work/$name.log"
    echo "fuzz: $target for ${seconds}s (corpus Fuzz/Corpus/$name + $found)"
    if ! "Fuzz/.build/debug/$target" "$found" "Fuzz/Corpus/$name" \
        -max_total_time="$seconds" -seed=1 -print_final_stats=1 -artifact_prefix="$work/artifacts/$name-" \
        > "$log" 2>&1; then
        echo "fuzz: $target FAILED, see $log and $work/artifacts/"
        grep -E 'ERROR|Fatal|precondition|SUMMARY' "$log" | head -5 || true
        status=1
        continue
    fi
    stat() { grep -o "stat::$1: *[0-9]*" "$log" | grep -o '[0-9]*$' || echo '?'; }
    cov=$(grep -E 'DONE' "$log" | grep -o 'cov: [0-9]*' | tail -1 || true)
    echo "fuzz: $target ok: $(stat number_of_executed_units) runs, $(stat average_exec_per_sec) exec/s," \
        "${cov:-cov: ?} edges covered, peak RSS $(stat peak_rss_mb) MB"
    if [ "$merge" = merge ]; then
        merged="$work/$name.merged"
        rm -rf "$merged" && mkdir -p "$merged"
        "Fuzz/.build/debug/$target" -merge=1 "$merged" "Fuzz/Corpus/$name" "$found" > "$work/$name.merge.log" 2>&1
        rm -rf "Fuzz/Corpus/$name" && mv "$merged" "Fuzz/Corpus/$name"
        echo "fuzz: Fuzz/Corpus/$name now holds $(ls "Fuzz/Corpus/$name" | wc -l) inputs"
    fi
done
exit $status

#!/usr/bin/env bash
# Runs the libFuzzer targets of Fuzz/ (see SECURITY.md, "Fuzzing").
#
#   scripts/fuzz.sh SECONDS [merge]
#
# Builds every target with -sanitize=fuzzer,address in one `swift build` — FuzzLineProtocol
# (ingest payloads), FuzzVGI1 (ingest requests), FuzzControl (control requests), FuzzWAL
# (write-ahead log segments, recovery and replay), FuzzCheckpoint (checkpoint files and the
# state they restore), FuzzCSV (the agent's CSV mapping), FuzzCertificate (CURVE
# certificates, Z85), FuzzConfig (daemon and agent configuration) — then runs each for
# SECONDS on a copy of its committed corpus (Fuzz/Corpus/<name>) plus what earlier runs
# found (.build/fuzz/<name>), with a fixed seed. A crash, a sanitizer report or a broken
# invariant stops that target, leaves the input in .build/fuzz/artifacts/ and makes the
# script exit non-zero (the other targets still run). With `merge`, the committed corpus
# is replaced by a minimized merge of both.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
merge=${2:-}
swift=${SWIFT:-swift}
work=$PWD/.build/fuzz
targets=(
    FuzzLineProtocol:line-protocol FuzzVGI1:vgi1 FuzzControl:control FuzzWAL:wal FuzzCheckpoint:checkpoint
    FuzzCSV:csv FuzzCertificate:certificate FuzzConfig:config
)
mkdir -p "$work/artifacts"
build=0
(cd Fuzz && "$swift" build -c debug -Xswiftc -sanitize=fuzzer,address) > "$work/build.log" 2>&1 || build=$?
if [ "$build" -ne 0 ] && grep -q 'because of missing inputs' "$work/build.log"; then
    # SwiftPM's incremental build still lists a source file that was renamed or removed
    # since the last build: build the products again from scratch (checkouts are kept).
    echo "fuzz: stale incremental build (a source file was renamed); building again from scratch"
    rm -rf Fuzz/.build/*/debug
    build=0
    (cd Fuzz && "$swift" build -c debug -Xswiftc -sanitize=fuzzer,address) > "$work/build.log" 2>&1 || build=$?
fi
grep -v -e 'Cannot export local symbol' -e '^\[' "$work/build.log" || true
if [ "$build" -ne 0 ]; then
    echo "fuzz: the build FAILED (exit $build), see $work/build.log"
    exit 1
fi
# A crash is reported by libFuzzer (the message, then its stack trace); Swift's own
# backtracer would add a second report that ASan trips over, and can outlive the target.
export SWIFT_BACKTRACE=enable=no
status=0
for pair in "${targets[@]}"; do
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
        grep -E 'ERROR|Fatal|invariant|precondition|SUMMARY' "$log" | head -5 || true
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

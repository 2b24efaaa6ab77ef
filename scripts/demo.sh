#!/usr/bin/env bash
# make demo: start vigied with the city config, feed it simulated traffic, watch live.
# Ctrl-C stops everything this script started.
set -euo pipefail
config=${1:-config/vigie.toml}
demo_dir=${2:-.demo}
speed=${VIGIE_DEMO_SPEED:-60}
bin=.build/release
mkdir -p "$demo_dir/state"

pids=()
cleanup() {
    trap - INT TERM EXIT
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    echo
    echo "demo stopped; logs in $demo_dir/"
}
trap cleanup INT TERM EXIT

"$bin/vigied" --config "$config" --state-dir "$demo_dir/state" >"$demo_dir/vigied.out" 2>"$demo_dir/vigied.log" &
pids+=($!)
for _ in $(seq 1 50); do
    grep -q '^vigied ready' "$demo_dir/vigied.out" 2>/dev/null && break
    if ! kill -0 "${pids[0]}" 2>/dev/null; then
        echo "vigied failed to start:" >&2
        cat "$demo_dir/vigied.log" >&2
        exit 1
    fi
    sleep 0.1
done
cat "$demo_dir/vigied.out"

"$bin/vigie" simulate --config "$config" --speed "$speed" >"$demo_dir/simulate.log" 2>&1 &
pids+=($!)

"$bin/vigie" watch --config "$config"

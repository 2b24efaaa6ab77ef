#!/usr/bin/env bash
# Alert latency: a breaching push until its `alert.*` message arrives on the feed, idle
# and beside acknowledged background traffic (issue: 50,000 samples/s).
#
#   Benchmarks/alert-latency.sh [background samples/s] [duration]
#                                (defaults 50000 and 20s; needs `make build` first)
#
# Starts vigied on config/bench.toml with a fresh state directory, runs
# `vigie bench --mode alert` alone, then again beside `vigie bench --rate N`. Each line
# gives the end-to-end figure (client push → client sees the alert: two processes, four
# libzmq threads, loopback TCP) and vigied's own part from its `stats` (message received
# → transition published). After each, the floor beside the same load: `vigie bench
# --mode floor`, the same DEALER→ROUTER and PUB→SUB hops through a peer that does no
# work. The machine's scheduling noise moves both alike (on the development VM the floor
# alone has ranged from 1.2 to 2.6 ms at p99); the difference is the daemon's cost.
# docs/alert-latency.md explains the figures and how to trace a slow alert
# (`vigie bench --mode alert --trace FILE` with `perf sched record`).
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-50000}
duration=${2:-20s}
bin=${VIGIE_BIN_DIR:-.build/release}
state=$(mktemp -d /tmp/vigie-alert-bench-XXXXXX)
config="$state/bench.toml"
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$state"' EXIT
sed -e "s|^state_dir.*|state_dir = \"$state/state\"|" config/bench.toml > "$config"

run() {
    "$bin/vigied" --config "$config" --runtime-dir "$state/run" > "$state/vigied.out" 2> "$state/vigied.log" &
    local daemon=$!
    for _ in $(seq 100); do grep -q '^vigied ready' "$state/vigied.out" 2>/dev/null && break; sleep 0.1; done
    local background=
    if [ "$1" -gt 0 ]; then
        "$bin/vigie" bench --config "$config" --rate "$1" --duration 1h > /dev/null 2>&1 &
        background=$!
        sleep 1
    fi
    printf '%s: ' "$2"
    "$bin/vigie" bench --config "$config" --mode alert --duration "$duration"
    # The same hops through a peer that does no work, beside the same load, right after.
    printf '%s: ' "$2"
    "$bin/vigie" bench --mode floor --duration "$duration"
    [ -n "$background" ] && kill "$background" && wait "$background" 2>/dev/null || true
    kill -TERM "$daemon"
    wait "$daemon" 2>/dev/null || true
    rm -rf "$state/state"
}

run 0 "idle"
run "$rate" "beside $rate samples/s"

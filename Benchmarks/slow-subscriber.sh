#!/usr/bin/env bash
# Ingest throughput with and without a feed subscriber that never reads (SECURITY.md,
# "Limits"): the PUB socket drops at its high-water mark, so the engine never waits.
#
#   Benchmarks/slow-subscriber.sh [duration]      (default 10s; needs `make build` and python3-zmq)
#
# Runs `vigie bench` against vigied on config/bench.toml with publish_interval = "0s"
# (every change goes to the feed), first alone, then with a pyzmq SUB subscribed to
# everything that never calls recv; prints both rates, the ratio and vigied's peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10s}
bin=${VIGIE_BIN_DIR:-.build/release}
dir=$(mktemp -d /tmp/vigie-slow-sub-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
sed -e "s|^state_dir.*|state_dir = \"$dir/state\"|" -e 's|^publish_interval.*|publish_interval = "0s"|' \
    config/bench.toml > "$dir/bench.toml"

run() {
    "$bin/vigied" --config "$dir/bench.toml" --runtime-dir "$dir/run" > "$dir/vigied.out" 2> "$dir/vigied.log" &
    local daemon=$! stuck=
    for _ in $(seq 100); do grep -q '^vigied ready' "$dir/vigied.out" 2>/dev/null && break; sleep 0.1; done
    if [ "$1" = stuck ]; then
        /usr/bin/python3 -c '
import sys, time, zmq
s = zmq.Context().socket(zmq.SUB)
s.setsockopt(zmq.RCVHWM, 100)
s.setsockopt(zmq.SUBSCRIBE, b"")
s.connect(sys.argv[1])
time.sleep(3600)' "$(sed -n 's/^feed *= *\["\([^"]*\)".*/\1/p' "$dir/bench.toml")" &
        stuck=$!
        sleep 0.5
    fi
    local rate
    rate=$("$bin/vigie" bench --config "$dir/bench.toml" --duration "$duration" --json \
        | sed -E 's/.*"samples_per_second":([0-9.]+).*/\1/')
    local rss
    rss=$(grep VmHWM "/proc/$daemon/status" | awk '{print $2}')
    [ -n "$stuck" ] && kill "$stuck"
    kill -TERM "$daemon"
    wait "$daemon" 2>/dev/null || true
    rm -rf "$dir/state"
    echo "$rate $rss"
}

read -r alone alone_rss < <(run alone)
read -r stuck stuck_rss < <(run stuck)
awk -v a="$alone" -v s="$stuck" -v ar="$alone_rss" -v sr="$stuck_rss" 'BEGIN {
    printf "no subscriber:           %.0f samples/s, vigied peak RSS %.0f MB\n", a, ar / 1024
    printf "subscriber never reads:  %.0f samples/s, vigied peak RSS %.0f MB (%.1f%% of the rate)\n", s, sr / 1024, 100 * s / a
}'

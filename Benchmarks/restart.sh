#!/usr/bin/env bash
# Restart benchmark: how long vigied takes to be back to serving with N samples in the
# write-ahead log since its last checkpoint (checkpoints are pushed out of the way).
#
#   Benchmarks/restart.sh [samples]      (default 1000000; needs `make build` first)
#
# Steps: start vigied on config/bench.toml with a fresh state directory and no
# checkpoint for an hour, push at least N acknowledged samples with `vigie bench`,
# SIGKILL the daemon (no shutdown checkpoint), then time a restart until its
# `vigied ready` line, which it prints once recovery is done and its sockets serve.
set -euo pipefail
cd "$(dirname "$0")/.."
want=${1:-1000000}
bin=.build/release
state=$(mktemp -d /tmp/vigie-restart-XXXXXX)
config="$state/bench.toml"
trap 'pkill -KILL -f -- "--config $config" 2>/dev/null || true; rm -rf "$state"' EXIT
sed -e "s|^state_dir.*|state_dir = \"$state/state\"\ncheckpoint_interval = \"1h\"\ncheckpoint_wal_bytes = 1099511627776|" \
    config/bench.toml > "$config"

"$bin/vigied" --config "$config" --runtime-dir "$state/run" > "$state/first.out" 2> "$state/first.log" &
first=$!
for _ in $(seq 100); do grep -q '^vigied ready' "$state/first.out" 2>/dev/null && break; sleep 0.1; done
pushed=0
while [ "$pushed" -lt "$want" ]; do
    n=$("$bin/vigie" bench --config "$config" --duration 1s --json | sed -E 's/.*"samples":([0-9]+).*/\1/')
    pushed=$((pushed + n))
done
kill -KILL "$first"
wait "$first" 2>/dev/null || true
wal=$(du -sm "$state/state/wal" | cut -f1)

start=$(date +%s%N)
"$bin/vigied" --config "$config" --runtime-dir "$state/run" > "$state/second.out" 2> "$state/second.log" &
disown
until grep -q '^vigied ready' "$state/second.out" 2>/dev/null; do sleep 0.005; done
end=$(date +%s%N)
ms=$(( (end - start) / 1000000 ))
recovered=$(grep -o 'samples=[0-9]*' "$state/second.log" | head -1 | cut -d= -f2)
echo "restart: ${pushed} samples acknowledged (${wal} MB of WAL, no checkpoint), ${recovered} replayed, back to serving in ${ms} ms"

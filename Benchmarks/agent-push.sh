#!/usr/bin/env bash
# `vigie push --agent` latency with the daemon down: the agent ACKs once the batch is
# fsynced in its spool, so a cron script never waits for vigied.
#
#   Benchmarks/agent-push.sh [runs]      (default 200; needs `make build` first)
#
# Starts `vigie agent` (fsync = "batch") whose upstream is a port nothing listens on,
# then times `vigie push --agent ENDPOINT` end to end (process start, connect, send,
# ACK after the spool's fsync, exit) `runs` times and prints p50/p99/max.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200}
bin=${VIGIE_BIN_DIR:-.build/release}
dir=$(mktemp -d /tmp/vigie-agent-bench-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
cat > "$dir/agent.toml" <<TOML
[agent]
name = "bench"
upstream = "tcp://127.0.0.1:1"

[spool]
directory = "$dir/spool"

[listen]
ingest = ["ipc://$dir/run/ingest.sock"]
push = []
control = ["tcp://127.0.0.1:*"]
TOML
"$bin/vigie" agent --config "$dir/agent.toml" > "$dir/agent.out" 2> "$dir/agent.log" &
for _ in $(seq 100); do grep -q '^vigie agent ready' "$dir/agent.out" 2>/dev/null && break; sleep 0.1; done
endpoint="ipc://$dir/run/ingest.sock"
: > "$dir/times"
: > "$dir/floor"
for i in $(seq "$runs"); do
    # EPOCHREALTIME is a bash builtin: no clock process inside the timed span.
    start=$EPOCHREALTIME
    "$bin/vigie" push --agent "$endpoint" bench_push "$i" > /dev/null
    end=$EPOCHREALTIME
    echo $(( ${end/./} - ${start/./} )) >> "$dir/times"
    # The floor on this machine: starting a do-nothing process the same way.
    start=$EPOCHREALTIME
    /bin/true
    end=$EPOCHREALTIME
    echo $(( ${end/./} - ${start/./} )) >> "$dir/floor"
done
summary() {
    sort -n "$1" | awk -v what="$2" -v runs="$runs" '
        { t[NR] = $1 }
        END {
            p50 = t[int(NR * 0.50) + (NR * 0.50 > int(NR * 0.50))]
            p99 = t[int(NR * 0.99) + (NR * 0.99 > int(NR * 0.99))]
            printf "%s, %d runs: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", what, runs, p50 / 1000, p99 / 1000, t[NR] / 1000
        }'
}
summary "$dir/times" "vigie push --agent, daemon down"
summary "$dir/floor" "/bin/true (process start floor)"

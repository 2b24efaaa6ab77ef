#!/usr/bin/env bash
# One-shot producers forever: N runs of `vigie push` (each with a fresh producer id, as a
# cron script's), against vigied with default [ingest] settings (max_producers 10,000).
# Every run must be accepted: idle producers are forgotten to make room.
#
#   Benchmarks/one-shot-push.sh [N] [PARALLEL]    (default 20000 runs, 2 at a time)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20000}
parallel=${2:-2}
bin=.build/release
work=$(mktemp -d)
trap 'kill "$daemon" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
cat > "$work/vigie.toml" <<'TOML'
[endpoints]
ingest = ["tcp://127.0.0.1:7650"]
push = ["tcp://127.0.0.1:7651"]
feed = ["tcp://127.0.0.1:7652"]
control = ["tcp://127.0.0.1:7653"]

[[kpi]]
name = "cron.count"
metric = "cron"
aggregate = "count"
window = "7d"
TOML
"$bin/vigied" --config "$work/vigie.toml" --state-dir "$work/state" > "$work/out" 2> "$work/log" &
daemon=$!
for _ in $(seq 50); do grep -q '^vigied ready' "$work/out" 2>/dev/null && break; sleep 0.1; done
endpoints=(--ingest tcp://127.0.0.1:7650 --control tcp://127.0.0.1:7653)
started=$SECONDS
seq "$runs" | xargs -P "$parallel" -I{} sh -c \
    "'$bin/vigie' push cron 1 ${endpoints[*]} > /dev/null 2>> '$work/failed' || echo {} >> '$work/failed-runs'"
elapsed=$((SECONDS - started))
failed=0
[ ! -f "$work/failed-runs" ] || failed=$(wc -l < "$work/failed-runs")
stats=$("$bin/vigie" status --stats --json "${endpoints[@]}")
field() { python3 -c "import json,sys; print(json.load(sys.stdin).get('$1'))" <<< "$stats"; }
echo "one-shot pushes: $runs in ${elapsed}s ($parallel at a time), failed: $failed"
echo "daemon: samples_accepted $(field samples_accepted), producers_total $(field producers_total)," \
    "producers_evicted $(field producers_evicted)"
[ "$failed" -eq 0 ] || { sort "$work/failed" | uniq -c | head -5; exit 1; }

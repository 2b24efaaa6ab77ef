#!/usr/bin/env bash
# make demo: start vigied with the city config, feed it simulated traffic, watch live.
# Ctrl-C stops everything this script started.
#
#   scripts/demo.sh [--check] [CONFIG [DIR]]
#
# --check (make demo-check, run by make test): the same daemon and simulator in a fresh
# DIR, `vigie watch --json` instead of the live table, and a verdict: KPI values must
# arrive and the simulated payment outage (18 simulated minutes in, 45 long) must fire
# service_hors_service and resolve it, within VIGIE_DEMO_CHECK_SECONDS (default 150).
set -euo pipefail
check=
if [ "${1:-}" = --check ]; then check=1; shift; fi
config=${1:-config/vigie.toml}
demo_dir=${2:-.demo}
speed=${VIGIE_DEMO_SPEED:-60}
bin=.build/release
if [ -n "$check" ]; then rm -rf "$demo_dir"; fi
mkdir -p "$demo_dir/state"
# This demo's daemon, not a system vigied's /run/vigie socket (vigied --state-dir puts
# its operator control socket in STATE/run).
export VIGIE_CONTROL="ipc://$(cd "$demo_dir" && pwd)/state/run/control.sock"

pids=()
cleanup() {
    trap - INT TERM EXIT
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    echo
    if [ -z "$check" ]; then echo "demo stopped; logs in $demo_dir/"; fi
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

if [ -z "$check" ]; then
    "$bin/vigie" watch --config "$config"
    exit 0
fi

# Headless check: the feed as JSON lines, read until both alert transitions are seen.
limit=${VIGIE_DEMO_CHECK_SECONDS:-150}
feed="$demo_dir/watch.jsonl"
"$bin/vigie" watch --config "$config" --json --duration "${limit}s" >"$feed" 2>"$demo_dir/watch.err" &
pids+=($!)
watcher=$!
# The payment service's alert: firing, then resolved after it (a random failed probe of
# another service may also go pending and clear; it does not count).
alert='"rule":"service_hors_service","kpi":"en_ligne.joignable","group":{"service":"paiement"}'
state_line() { grep -nF "$alert" "$feed" 2>/dev/null | grep -F "\"state\":\"$1\"" | head -1 | cut -d: -f1; }
firing_line() { state_line firing; }
resolved_after_firing() {
    local firing
    firing=$(firing_line)
    [ -n "$firing" ] && grep -nF "$alert" "$feed" | grep -F '"state":"resolved"' \
        | awk -F: -v after="$firing" '$1 > after { found = 1 } END { exit !found }'
}
seen() { if [ "$1" = firing ]; then [ -n "$(firing_line)" ]; else resolved_after_firing; fi; }
started=$SECONDS
while kill -0 "$watcher" 2>/dev/null && ! { seen firing && seen resolved; }; do
    sleep 1
done
elapsed=$((SECONDS - started))
values=$(grep -c '"type":"kpi".*"value":[-0-9]' "$feed" || true)
kpis=$(grep -o '"kpi":"[^"]*"' "$feed" | sort -u | wc -l)
echo "demo-check: ${elapsed}s at --speed $speed: $values KPI updates with a value over $kpis KPIs"
status=0
if [ "$values" -eq 0 ]; then
    echo "demo-check: FAILED: no KPI value arrived on the feed" >&2
    status=1
fi
for state in firing resolved; do
    if seen "$state"; then
        echo "demo-check: service_hors_service (paiement) $state"
    else
        echo "demo-check: FAILED: service_hors_service (paiement) never reached '$state' within ${limit}s" >&2
        status=1
    fi
done
if [ "$status" != 0 ]; then
    echo "--- $demo_dir/vigied.log (tail)" >&2
    tail -20 "$demo_dir/vigied.log" >&2 || true
    echo "--- $demo_dir/simulate.log (tail)" >&2
    tail -5 "$demo_dir/simulate.log" >&2 || true
    echo "--- $demo_dir/watch.err" >&2
    cat "$demo_dir/watch.err" >&2 || true
fi
exit "$status"

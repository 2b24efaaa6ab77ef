#!/usr/bin/env bash
# Acknowledged ingest throughput, plain and over CURVE (SECURITY.md).
#
#   Benchmarks/curve-bench.sh [duration]      (default 10s; needs `make build` first)
#
# Generates a daemon key pair and a client key pair, then runs `vigie bench` twice
# against vigied on config/bench.toml (fresh state each time): once on the plain
# loopback ingest endpoint, once on a wildcard one (0.0.0.0, so CURVE) with the keys.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10s}
bin=${VIGIE_BIN_DIR:-.build/release}
dir=$(mktemp -d /tmp/vigie-curve-bench-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
mkdir -p "$dir/keys" "$dir/authorized"
"$bin/vigie" keygen vigied --directory "$dir/keys" > /dev/null
"$bin/vigie" keygen bench --directory "$dir/keys" > /dev/null
cp "$dir/keys/bench.key" "$dir/authorized/"

run() {
    local label=$1 ingest=$2
    shift 2
    sed -e "s|^state_dir.*|state_dir = \"$dir/state\"|" \
        -e "s|^ingest .*|ingest  = [\"$ingest\"]|" config/bench.toml > "$dir/bench.toml"
    cat >> "$dir/bench.toml" <<TOML

[security]
curve = true
secret_key_file = "$dir/keys/vigied.key_secret"
authorized_keys = "$dir/authorized"
TOML
    "$bin/vigied" --config "$dir/bench.toml" --runtime-dir "$dir/run" > "$dir/vigied.out" 2> "$dir/vigied.log" &
    local daemon=$!
    for _ in $(seq 100); do grep -q '^vigied ready' "$dir/vigied.out" 2>/dev/null && break; sleep 0.1; done
    printf '%s: ' "$label"
    "$bin/vigie" bench --config "$dir/bench.toml" --ingest "${ingest/0.0.0.0/127.0.0.1}" --duration "$duration" "$@"
    kill -TERM "$daemon"
    wait "$daemon" 2>/dev/null || true
    rm -rf "$dir/state"
}

run "plain (loopback)" "tcp://127.0.0.1:7610"
run "CURVE (0.0.0.0)" "tcp://0.0.0.0:7610" --server-key "$dir/keys/vigied.key" --key "$dir/keys/bench.key_secret"

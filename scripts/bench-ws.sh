#!/usr/bin/env bash
# WebSocket figure for BENCHMARKS.md: latency from an /api/set to the
# deltaStatus at each of W authenticated watchers (examples/ws_latency.rs),
# against a trivial HTTP round trip in the same run. Loopback only, bounded.
# Not part of scripts/test.sh: timings are never asserted.
#
#   scripts/bench-ws.sh [WATCHERS [WRITES]]      # default 100 200
#   DATA_ROOT=/dev/shm scripts/bench-ws.sh       # store on tmpfs: no fsync cost in /api/set
set -euo pipefail
cd "$(dirname "$0")/.."
WATCHERS=${1:-100}
WRITES=${2:-200}

cargo build -q --release -p goe-charger --bin goe-charger --example ws_latency
work=$(mktemp -d -p "${DATA_ROOT:-${TMPDIR:-/tmp}}")
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

target/release/goe-charger --listen 127.0.0.1:0 --data-dir "$work/data" --seed 1 >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 100); do grep -q 'listening on' "$work/out" && break; sleep 0.1; done
url=$(grep -m1 -o 'http://[0-9.:]*' "$work/out")
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== goe-charger at $url (real clock, 1 Hz deltas to every watcher too), data in $(df -T "$work" | awk 'NR==2 {print $2}')"
timeout 300 target/release/examples/ws_latency "$url" "$WATCHERS" "$WRITES"

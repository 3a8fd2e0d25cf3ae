#!/usr/bin/env bash
# HTTP figures for BENCHMARKS.md: requests/s of goe-charger's /api/status
# (evcc's 7-key filter and the full status), keep-alive and
# `Connection: close`, against a bare axum handler returning a constant on
# the same runtime setup (examples/bare_axum.rs), measured in the same run.
# Loopback only; every wrk run is bounded (DURATION seconds).
# Not part of scripts/test.sh: timings are never asserted.
#
#   scripts/bench-http.sh                         # 3 rounds x 6 runs x 5 s
#   DURATION=10 ROUNDS=1 CONNECTIONS=32 scripts/bench-http.sh
#   BEFORE=/tmp/before/target/release/goe-charger scripts/bench-http.sh
#       also runs the evcc filter (keep-alive) against an older build in
#       every round: the before/after ratio of a change, in the same run
# Needs wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }

cargo build -q --release -p goe-charger --bin goe-charger --example bare_axum

work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# start CMD...: runs it in the background, waits for its "listening on http://ADDR" line
start() {
    local log=$work/$1.out; shift
    "$@" >"$log" 2>"$log.err" &
    echo $! >"$log.pid"
    for _ in $(seq 100); do
        if grep -q 'listening on http://' "$log"; then
            grep -m1 -o 'http://[0-9.:]*' "$log"
            return
        fi
        sleep 0.1
    done
    echo "did not start: $*" >&2; cat "$log.err" >&2; exit 1
}

charger=$(start charger target/release/goe-charger --listen 127.0.0.1:0 --data-dir "$work/data" --seed 1)
charger_pid=$(cat "$work/charger.out.pid"); pids+=("$charger_pid")
bare=$(start bare target/release/examples/bare_axum 127.0.0.1:0)
bare_pid=$(cat "$work/bare.out.pid"); pids+=("$bare_pid")
if [ -n "${BEFORE:-}" ]; then
    before=$(start before "$BEFORE" --listen 127.0.0.1:0 --data-dir "$work/data-before" --seed 1)
    before_pid=$(cat "$work/before.out.pid"); pids+=("$before_pid")
fi
FILTER='/api/status?filter=alw,car,eto,nrg,wh,trx,cards'
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, $ROUNDS round(s); charger $charger, bare $bare"
echo "   filtered body $(curl -s "$charger$FILTER" | wc -c) bytes, full body $(curl -s "$charger/api/status" | wc -c) bytes, bare body $(curl -s "$bare/" | wc -c) bytes"

# warm-up
wrk -t1 -c4 -d1s "$bare/" >/dev/null
wrk -t1 -c4 -d1s "$charger$FILTER" >/dev/null

# CPU ticks (utime + stime) of a process
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

declare -A results effs
run() { # name pid url [header]: req/s, and requests per server CPU-second
    local name=$1 pid=$2 url=$3 out rps count t0 t1 eff
    shift 3
    t0=$(ticks "$pid")
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" "$@" "$url")
    t1=$(ticks "$pid")
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    count=$(awk '/requests in/ {print $1}' <<<"$out")
    eff=$(awk -v n="$count" -v d="$((t1 - t0))" -v hz="$hz" 'BEGIN {print (d > 0 ? n * hz / d : 0)}')
    errs=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out" | tr '\n' ' ')
    results[$name]="${results[$name]:-} $rps"
    effs[$name]="${effs[$name]:-} $eff"
    printf '   %-22s %10.0f req/s %10.0f req per server CPU-s %s\n' "$name" "$rps" "$eff" "$errs"
}

for round in $(seq "$ROUNDS"); do
    echo "-- round $round"
    run bare-keepalive "$bare_pid" "$bare/"
    run filtered-keepalive "$charger_pid" "$charger$FILTER"
    if [ -n "${BEFORE:-}" ]; then run before-filtered-keepalive "$before_pid" "$before$FILTER"; fi
    run full-keepalive "$charger_pid" "$charger/api/status"
    run bare-close "$bare_pid" "$bare/" -H 'Connection: close'
    run filtered-close "$charger_pid" "$charger$FILTER" -H 'Connection: close'
    run full-close "$charger_pid" "$charger/api/status" -H 'Connection: close'
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo
echo "req/s: throughput with wrk on the same 2 cores; req/CPU-s: requests per second of server CPU"
echo "(utime+stime of the server process), which depends less on what else runs on the machine."
printf '%-22s %10s %8s %12s %8s %8s\n' "run (median)" "req/s" "vs bare" "req/CPU-s" "vs bare" "target"
for mode in keepalive close; do
    b=$(median <<<"${results[bare-$mode]}")
    be=$(median <<<"${effs[bare-$mode]}")
    printf '%-22s %10.0f %8s %12.0f %8s %8s\n' "bare-$mode" "$b" "1.00" "$be" "1.00" ""
    for kind in filtered full; do
        v=$(median <<<"${results[$kind-$mode]}")
        e=$(median <<<"${effs[$kind-$mode]}")
        target=">=0.70"; [ "$kind" = full ] && target=">=0.25"
        printf '%-22s %10.0f %8s %12.0f %8s %8s\n' "$kind-$mode" "$v" "$(ratio "$v" "$b")" "$e" "$(ratio "$e" "$be")" "$target"
    done
    if [ "$mode" = keepalive ] && [ -n "${BEFORE:-}" ]; then
        v=$(median <<<"${results[before-filtered-keepalive]}")
        e=$(median <<<"${effs[before-filtered-keepalive]}")
        printf '%-22s %10.0f %8s %12.0f %8s %8s\n' "before-filtered-keepalive" "$v" "$(ratio "$v" "$b")" "$e" "$(ratio "$e" "$be")" ""
    fi
done

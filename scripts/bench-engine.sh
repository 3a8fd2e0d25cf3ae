#!/usr/bin/env bash
# Engine figures for BENCHMARKS.md: the cost of one charger-step (criterion,
# one thread pinned to one core) against baselines from the same run, and the
# wall time of one simulated year of one charger (the `year` example).
# Not part of scripts/test.sh: timings are never asserted.
#
#   scripts/bench-engine.sh            # ~2 minutes on 2 cores
#   BENCH_FILTER=step scripts/bench-engine.sh   # only the step benches
set -euo pipefail
cd "$(dirname "$0")/.."

pin=()  # PIN=1: pin to core 1 (on a shared machine this can hurt more than help)
if [ "${PIN:-0}" = 1 ] && command -v taskset >/dev/null; then pin=(taskset -c 1); fi

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
cargo bench -p goe-engine --bench step --no-run -q 2>/dev/null || cargo bench -p goe-engine --bench step --no-run
"${pin[@]}" cargo bench -q -p goe-engine --bench step -- ${BENCH_FILTER:-} 2>&1 | grep -E '^[a-z_]+/|time:|thrpt:' || true

python3 - <<'PY'
import json, os
root = "target/criterion"
def ns(group, name):
    p = os.path.join(root, group, name, "new", "estimates.json")
    if not os.path.exists(p):
        return None
    with open(p) as f:
        return json.load(f)["mean"]["point_estimate"]
sha = ns("baseline", "sha256_1KiB")
clone = ns("baseline", "values_clone")
print()
print(f"{'benchmark':<24}{'mean':>12}{'per second':>16}{'/ sha256':>10}{'/ clone':>10}")
for group, name in [("baseline", "sha256_1KiB"), ("baseline", "values_clone"),
                    ("step", "idle"), ("step", "idle_batch60"), ("step", "charging"), ("step", "commute"),
                    ("status", "refresh_clock"), ("status", "filtered_evcc"), ("status", "full")]:
    t = ns(group, name)
    if t is not None and name.endswith("batch60"):
        t /= 60  # per simulated second
    if t is None:
        continue
    r1 = f"{t / sha:.2f}" if sha else "-"
    r2 = f"{t / clone:.2f}" if clone else "-"
    print(f"{group + '/' + name:<24}{t:>9.1f} ns{1e9 / t:>16,.0f}{r1:>10}{r2:>10}")
PY

echo
echo "== one year, daily commute (cargo run --release -p goe-engine --example year)"
cargo build -q --release -p goe-engine --example year
"${pin[@]}" target/release/examples/year

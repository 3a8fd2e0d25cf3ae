#!/usr/bin/env bash
# Dashboard figures for BENCHMARKS.md (#16), measured in headless Debian
# Chromium through puppeteer-core against release `goe-charger` processes on
# loopback: page weight (bytes of every asset, uncompressed), time to first
# render (navigation start → first tile / serial shown), the main-thread cost
# of a fleet update at 1,000 tiles (Chromium's Performance.getMetrics around
# SSE frames naming N chargers, against a full re-render of all tiles), and
# on a running clock (--speed 1000 with 1 and 100 chargers, --speed 100 with
# 1,000) the frames/s and main-thread cost of each page and the server's CPU
# with 0, 1 and 11 fleet streams open; and the stream's server CPU time for
# the same simulated work on a manual clock with 0, 1 and 11 readers. Every figure is printed with its
# same-run baseline. Not part of scripts/test.sh.
#
#   scripts/bench-ui.sh                 # all sections
#   REPS=9 WINDOW=20 scripts/bench-ui.sh
#   SECTIONS=D scripts/bench-ui.sh      # only the running-clock windows (ABC, S: the rest)
#
# Needs chromium (apt-get install chromium) and puppeteer-core
# (scripts/client-venvs.sh; GOE_PUPPETEER_DIR, default target/npm/puppeteer-core).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --release -p goe-charger --bin goe-charger
export GOE_CHROMIUM=${GOE_CHROMIUM:-/usr/bin/chromium}
export GOE_PUPPETEER_DIR=${GOE_PUPPETEER_DIR:-$PWD/target/npm/puppeteer-core}
[ -x "$GOE_CHROMIUM" ] || { echo "chromium is missing at $GOE_CHROMIUM (apt-get install chromium)" >&2; exit 2; }
[ -f "$GOE_PUPPETEER_DIR/node_modules/puppeteer-core/package.json" ] || {
    echo "puppeteer-core is missing in $GOE_PUPPETEER_DIR (source scripts/client-venvs.sh)" >&2; exit 2; }
ulimit -n "$(ulimit -Hn)"
exec node scripts/bench-ui/bench.js "$@"

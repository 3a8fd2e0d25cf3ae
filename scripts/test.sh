#!/usr/bin/env bash
# Runs every check and test of the workspace. This is the README's test command
# and what CI runs (.ci/run). It installs what the tests need by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

need() {
    # need <command> <debian package>: install from Debian if missing, fail loudly if impossible.
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "== installing $2 (for $1)"
        if [ "$(id -u)" = 0 ]; then
            apt-get update -qq && apt-get install -y -qq "$2" >/dev/null
        else
            sudo apt-get update -qq && sudo apt-get install -y -qq "$2" >/dev/null
        fi
        command -v "$1" >/dev/null 2>&1 || { echo "FAILED: $1 is required and could not be installed" >&2; exit 1; }
    fi
}

need cargo cargo

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings

echo "== cargo test"
mkdir -p target
set +e
cargo test --workspace --no-fail-fast 2>&1 | tee target/test-output.txt
status=${PIPESTATUS[0]}
set -e
# Closing line in the form CI understands.
passed=$(grep -Eo '[0-9]+ passed' target/test-output.txt | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' target/test-output.txt | awk '{s+=$1} END {print s+0}')
echo "total: ${passed} passed, ${failed} failed"
if [ "$passed" = 0 ]; then echo "FAILED: no test ran" >&2; exit 1; fi
exit "$status"

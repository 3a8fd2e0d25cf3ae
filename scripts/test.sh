#!/usr/bin/env bash
# Runs every check and test of the workspace. This is the README's test command
# and what CI runs (.ci/run). It installs what the tests need by itself, as
# root or through sudo, on a fresh Debian machine:
#
#   mosquitto (Debian: mosquitto, mosquitto-clients)  -> GOE_MOSQUITTO
#   curl, mosquitto_sub/pub (Debian: curl, mosquitto-clients), for the README's examples
#   jq (Debian: jq), for the README's MQTT over TLS example
#   mbpoll (Debian: mbpoll), a Modbus TCP master of tests/modbus.rs (#15)
#   chromium (Debian: chromium), the browser of the dashboard test tests/ui.rs (#16)
#   target/venvs/wattpilot      wattpilot==0.2      -> GOE_VENV_WATTPILOT
#   target/venvs/goecharger-v1  goecharger==0.1.0   -> GOE_VENV_GOECHARGER_V1
#   (scripts/client-venvs.sh, sourced below, adds the conformance clients and
#   the OCPP backends: target/venvs/ocpp ocpp==2.1.0 websockets==17.4 ->
#   GOE_VENV_OCPP, target/npm/ocpp-rpc ocpp-rpc@2.2.1 -> GOE_OCPP_RPC_DIR, with
#   node and npm from Debian (nodejs, npm) when missing; the Modbus master
#   target/venvs/pymodbus pymodbus==3.8.6 -> GOE_VENV_PYMODBUS; Home
#   Assistant's discovery schemas target/venvs/homeassistant
#   homeassistant==2024.1.6 -> GOE_VENV_HOMEASSISTANT)
#   target/venvs/pytest-goe-charger pytest==8.3.4 hatchling==1.27.0 goe==0.3.2
#   -> GOE_VENV_PYTEST (scripts/pytest-venv.sh, #18: the pytest plugin's suite)
#
# The venvs are reused when the pinned version is installed, so reruns are fast.
# The client conformance suite runs every client test on the 060.5 and 056.2
# firmware profiles (cargo test below: <test>::fw_060_5 and <test>::fw_056_2).
# Anything that cannot be installed stops the run with a message saying what.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

fail() {
    echo "FAILED: $*" >&2
    exit 1
}

# as_root <command…>: run as root, directly or through sudo.
as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        fail "installing needs root or sudo: $*"
    fi
}

apt_updated=""
# apt_install <debian package…>: install from Debian (apt-get update once per run).
apt_install() {
    echo "== installing $* (Debian packages)"
    if [ -z "$apt_updated" ]; then
        as_root apt-get update -qq || fail "apt-get update failed (is the Debian mirror reachable?)"
        apt_updated=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null ||
        fail "apt-get install $* failed"
}

need() {
    # need <command> <debian package>: install from Debian if missing, fail loudly if impossible.
    if ! command -v "$1" >/dev/null 2>&1; then
        apt_install "$2"
        command -v "$1" >/dev/null 2>&1 || fail "$1 is required and could not be installed"
    fi
}

need cargo cargo

# --- the MQTT broker of the push tests (each test starts its own on a free port)
find_mosquitto() {
    local p
    p="$(command -v mosquitto 2>/dev/null || true)"
    if [ -z "$p" ]; then
        # Debian puts it in /usr/sbin, which is often not on a non-root PATH
        for c in /usr/sbin/mosquitto /usr/local/sbin/mosquitto; do
            if [ -x "$c" ]; then
                p="$c"
                break
            fi
        done
    fi
    echo "$p"
}
if [ -n "${GOE_MOSQUITTO:-}" ]; then
    [ -x "$GOE_MOSQUITTO" ] || fail "GOE_MOSQUITTO=$GOE_MOSQUITTO is not an executable"
else
    GOE_MOSQUITTO="$(find_mosquitto)"
    if [ -z "$GOE_MOSQUITTO" ]; then
        apt_install mosquitto mosquitto-clients
        GOE_MOSQUITTO="$(find_mosquitto)"
        [ -n "$GOE_MOSQUITTO" ] || fail "mosquitto is still missing after installing the Debian package"
    fi
fi
export GOE_MOSQUITTO
echo "== mosquitto: GOE_MOSQUITTO=$GOE_MOSQUITTO"

# --- curl and mosquitto_sub/pub: the README test runs the README's examples as written
if ! command -v curl >/dev/null 2>&1; then
    apt_install curl
    command -v curl >/dev/null 2>&1 || fail "curl is still missing after installing the Debian package"
fi
if ! command -v mosquitto_sub >/dev/null 2>&1 || ! command -v mosquitto_pub >/dev/null 2>&1; then
    apt_install mosquitto-clients
    command -v mosquitto_sub >/dev/null 2>&1 || fail "mosquitto_sub is still missing after installing mosquitto-clients"
fi

# --- jq: the README's MQTT over TLS example quotes PEM files with it (#15)
if ! command -v jq >/dev/null 2>&1; then
    apt_install jq
    command -v jq >/dev/null 2>&1 || fail "jq is still missing after installing the Debian package"
fi

# --- mbpoll (Debian): the Modbus TCP master of tests/modbus.rs (#15)
if ! command -v mbpoll >/dev/null 2>&1; then
    apt_install mbpoll
    command -v mbpoll >/dev/null 2>&1 || fail "mbpoll is still missing after installing the Debian package"
fi

# --- chromium (Debian): the headless browser of tests/ui.rs (#16), driven by
# puppeteer-core (scripts/client-venvs.sh: GOE_PUPPETEER_DIR)
if ! command -v chromium >/dev/null 2>&1; then
    apt_install chromium
    command -v chromium >/dev/null 2>&1 || fail "chromium is still missing after installing the Debian package"
fi
export GOE_CHROMIUM="${GOE_CHROMIUM:-$(command -v chromium)}"

# --- pinned PyPI clients, each in its own venv
if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    # Debian ships venv's ensurepip in python3-venv
    apt_install python3 python3-venv
    command -v python3 >/dev/null 2>&1 || fail "python3 is required and could not be installed"
    python3 -c 'import ensurepip, venv' >/dev/null 2>&1 ||
        fail "python3 has no working venv module (Debian: python3-venv)"
fi

# pinned_version <python> <package>: the installed version, empty when none.
pinned_version() {
    "$1" -c 'import sys, importlib.metadata as m; print(m.version(sys.argv[1]))' "$2" 2>/dev/null || true
}

# client_venv <name> <VAR> <package==version>: reuse or create target/venvs/<name>, export VAR.
client_venv() {
    local name="$1" var="$2" req="$3"
    local pkg="${req%%==*}" ver="${req##*==}"
    local py
    if [ -n "${!var:-}" ]; then
        py="${!var}"
        [ -x "$py" ] || fail "$var=$py is not an executable python"
        [ "$(pinned_version "$py" "$pkg")" = "$ver" ] || fail "$var=$py does not have $req installed"
        echo "== venv $name: $var=$py (given, $req)"
        return
    fi
    local dir="$root/target/venvs/$name"
    py="$dir/bin/python"
    if [ -x "$py" ] && [ "$(pinned_version "$py" "$pkg")" = "$ver" ]; then
        echo "== venv $name: $req (reused)"
    else
        echo "== venv $name: installing $req"
        rm -rf "$dir"
        mkdir -p "$root/target/venvs"
        python3 -m venv "$dir" || fail "python3 -m venv $dir failed (Debian: apt-get install python3-venv)"
        "$py" -m pip --version >/dev/null 2>&1 || fail "pip is missing in $dir (Debian: apt-get install python3-venv)"
        "$py" -m pip install --quiet --disable-pip-version-check --retries 2 --timeout 60 "$req" ||
            fail "pip install $req into $dir failed (is the Python package registry reachable?)"
        [ "$(pinned_version "$py" "$pkg")" = "$ver" ] || fail "$dir does not have $req after installing it"
    fi
    export "$var=$py"
    echo "   $var=$py"
}

client_venv wattpilot GOE_VENV_WATTPILOT 'wattpilot==0.2'
client_venv goecharger-v1 GOE_VENV_GOECHARGER_V1 'goecharger==0.1.0'
# the client conformance suite's further venvs, when that suite is present
if [ -f scripts/client-venvs.sh ]; then
    # shellcheck source=/dev/null
    source scripts/client-venvs.sh
fi
# #18: the pytest plugin's suite (tests/pytest_plugin.rs): pinned pytest,
# hatchling and goe in target/venvs/pytest-goe-charger -> GOE_VENV_PYTEST
# shellcheck source=/dev/null
source scripts/pytest-venv.sh || fail "the pytest plugin's venv could not be made (scripts/pytest-venv.sh)"

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings

echo "== cargo doc -D warnings (doc comments and their links)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

echo "== cargo test"
mkdir -p target
set +e
{
    cargo test --workspace --no-fail-fast
    workspace_status=$?
    # the client's optional cloud feature changes its TLS set-up: test it too
    cargo test -p goe-client --features cloud --no-fail-fast
    cloud_status=$?
    # and `goe --cloud` against goe-charger's cloud API stand-in (#15)
    cargo test -p goe-cli --features cloud --no-fail-fast --test cloud || cloud_status=1
    # the group fails when either run failed
    [ "$workspace_status" = 0 ] && [ "$cloud_status" = 0 ]
} 2>&1 | tee target/test-output.txt
status=${PIPESTATUS[0]}
set -e
# Closing line in the form CI understands.
passed=$(grep -Eo '[0-9]+ passed' target/test-output.txt | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' target/test-output.txt | awk '{s+=$1} END {print s+0}')
echo "total: ${passed} passed, ${failed} failed"
if [ "$passed" = 0 ]; then fail "no test ran"; fi
exit "$status"

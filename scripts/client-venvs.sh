#!/usr/bin/env bash
# Creates the Python virtual environments of the client conformance suite
# (crates/goe-charger/tests/conformance/) under target/venvs/<name>, one per
# client, with the client versions pinned in shared/reference/clients.md, and
# exports the path of each environment's python:
#
#   GOE_VENV_GOE              goe==0.3.2
#   GOE_VENV_API_LITE         goecharger-api-lite==1.5.1 'aiohttp<3.10'
#   GOE_VENV_GOECHARGERV2     goechargerv2==0.2.2
#   GOE_VENV_GOE_PROMETHEUS   goe-prometheus==0.2.2 (pulls goe 0.2.2)
#   GOE_VENV_WATTPILOT        wattpilot==0.2           (kept when already set)
#   GOE_VENV_GOECHARGER_V1    goecharger==0.1.0        (kept when already set)
#   GOE_VENV_OCPP             ocpp==2.1.0 websockets==17.4 (the OCPP 1.6J CSMS of
#                             tests/ocpp.rs; ocpp 2.1.0 needs Python >= 3.11)
#   GOE_VENV_PYMODBUS         pymodbus==3.8.6 (the Modbus TCP client of
#                             tests/modbus.rs, #15)
#   GOE_OCPP_RPC_DIR          npm ocpp-rpc@2.2.1 under target/npm/ocpp-rpc (node
#                             >= 17.3: the strict-mode OCPP server of tests/ocpp.rs)
#   GOE_PUPPETEER_DIR         npm puppeteer-core@25.16.0 under target/npm/puppeteer-core
#                             (#16: drives Debian's chromium in tests/ui.rs)
#   GOE_VENV_HOMEASSISTANT    homeassistant==2024.1.6 paho-mqtt==1.6.1 (#15: the
#                             MQTT discovery schemas of tests/ha_discovery.rs;
#                             2024.1 is the last release for Python 3.11)
#
# An environment whose pins are already satisfied is reused (fast reruns).
# Usage: `source scripts/client-venvs.sh` (scripts/test.sh does) or run it to
# see the paths. Any failure (no python3, no pip, registry unreachable) stops
# with a message naming what failed: the suite is never skipped silently.

# Runs in the caller's shell when sourced: keep every name prefixed.
_goe_venvs_main() {
    local root
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    local base="$root/target/venvs"

    _goe_venvs_fail() {
        echo "FAILED: client venvs: $*" >&2
        return 1
    }

    # python3 with venv support (Debian splits ensurepip into python3-venv)
    if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
        echo "== installing python3 and python3-venv (for the client conformance suite)"
        local sudo=""
        [ "$(id -u)" = 0 ] || sudo=sudo
        { $sudo apt-get update -qq && $sudo apt-get install -y -qq python3 python3-venv >/dev/null; } ||
            { _goe_venvs_fail "python3 with the venv module is required and could not be installed"; return 1; }
        command -v python3 >/dev/null 2>&1 || { _goe_venvs_fail "python3 is still missing"; return 1; }
    fi
    if ! python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)'; then
        _goe_venvs_fail "python3 >= 3.10 is required (the clients use match statements); found $(python3 --version 2>&1)"
        return 1
    fi

    # _goe_venv NAME VAR REQUIREMENT...: reuse or create target/venvs/NAME, export VAR.
    _goe_venv() {
        local name="$1" var="$2"
        shift 2
        local dir="$base/$name"
        local py="$dir/bin/python"
        # Whether every requirement is installed (pip's own packaging parses the specs).
        local check='
import sys
from importlib.metadata import version, PackageNotFoundError
from pip._vendor.packaging.requirements import Requirement
for spec in sys.argv[1:]:
    req = Requirement(spec)
    try:
        have = version(req.name)
    except PackageNotFoundError:
        sys.exit(1)
    if not req.specifier.contains(have, prereleases=True):
        sys.exit(1)
'
        if [ -x "$py" ] && "$py" -c "$check" "$@" >/dev/null 2>&1; then
            echo "== client venv $name: reused ($*)"
        else
            echo "== client venv $name: installing $*"
            mkdir -p "$base"
            if [ ! -x "$py" ]; then
                rm -rf "$dir"
                python3 -m venv "$dir" || { _goe_venvs_fail "python3 -m venv $dir failed"; return 1; }
            fi
            "$py" -m pip --version >/dev/null 2>&1 || { _goe_venvs_fail "pip is missing in $dir"; return 1; }
            "$py" -m pip install --quiet --disable-pip-version-check "$@" ||
                { _goe_venvs_fail "pip install $* into $dir failed (is the Python package registry reachable?)"; return 1; }
            "$py" -c "$check" "$@" ||
                { _goe_venvs_fail "after installing, $dir still does not satisfy $*"; return 1; }
        fi
        export "$var=$py"
        echo "   $var=$py"
    }

    _goe_venv goe GOE_VENV_GOE 'goe==0.3.2' || return 1
    _goe_venv goecharger-api-lite GOE_VENV_API_LITE 'goecharger-api-lite==1.5.1' 'aiohttp<3.10' || return 1
    _goe_venv goechargerv2 GOE_VENV_GOECHARGERV2 'goechargerv2==0.2.2' || return 1
    _goe_venv goe-prometheus GOE_VENV_GOE_PROMETHEUS 'goe-prometheus==0.2.2' || return 1
    # These two may come from the push/client tests' installation; reuse theirs when exported.
    if [ -n "${GOE_VENV_WATTPILOT:-}" ]; then
        echo "== client venv wattpilot: GOE_VENV_WATTPILOT=$GOE_VENV_WATTPILOT (already set)"
    else
        _goe_venv wattpilot GOE_VENV_WATTPILOT 'wattpilot==0.2' || return 1
    fi
    if [ -n "${GOE_VENV_GOECHARGER_V1:-}" ]; then
        echo "== client venv goecharger-v1: GOE_VENV_GOECHARGER_V1=$GOE_VENV_GOECHARGER_V1 (already set)"
    else
        _goe_venv goecharger-v1 GOE_VENV_GOECHARGER_V1 'goecharger==0.1.0' || return 1
    fi

    # The OCPP 1.6J backend of tests/ocpp.rs: mobilityhouse ocpp validates every
    # frame against the 1.6 JSON schemas; it requires Python >= 3.11.
    if ! python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
        _goe_venvs_fail "python3 >= 3.11 is required by ocpp 2.1.0 (the OCPP tests' CSMS); found $(python3 --version 2>&1)"
        return 1
    fi
    _goe_venv ocpp GOE_VENV_OCPP 'ocpp==2.1.0' 'websockets==17.4' || return 1
    # #15: the Modbus TCP client of tests/modbus.rs
    _goe_venv pymodbus GOE_VENV_PYMODBUS 'pymodbus==3.8.6' || return 1

    # Home Assistant's own MQTT discovery schemas and template engine for
    # tests/ha_discovery.rs (#15); paho-mqtt is the mqtt component's requirement.
    _goe_venv homeassistant GOE_VENV_HOMEASSISTANT 'homeassistant==2024.1.6' 'paho-mqtt==1.6.1' || return 1

    # The second OCPP implementation: npm ocpp-rpc in strict mode, installed into
    # target/npm/ocpp-rpc (reused while the pinned version is there).
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        echo "== installing nodejs and npm (for the OCPP tests' ocpp-rpc server)"
        local sudo=""
        [ "$(id -u)" = 0 ] || sudo=sudo
        { $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; } ||
            { _goe_venvs_fail "node and npm are required (Debian: nodejs npm) and could not be installed"; return 1; }
        command -v node >/dev/null 2>&1 || { _goe_venvs_fail "node is still missing after installing nodejs"; return 1; }
        command -v npm >/dev/null 2>&1 || { _goe_venvs_fail "npm is still missing after installing npm"; return 1; }
    fi
    if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>17||(a===17&&b>=3)?0:1)'; then
        _goe_venvs_fail "node >= 17.3 is required by ocpp-rpc 2.2.1; found $(node --version 2>&1)"
        return 1
    fi
    local rpc_dir="$root/target/npm/ocpp-rpc" rpc_ver="2.2.1"
    local rpc_check="process.exit(require('$rpc_dir/node_modules/ocpp-rpc/package.json').version==='$rpc_ver'?0:1)"
    if node -e "$rpc_check" >/dev/null 2>&1; then
        echo "== npm ocpp-rpc: reused (ocpp-rpc@$rpc_ver)"
    else
        echo "== npm ocpp-rpc: installing ocpp-rpc@$rpc_ver"
        rm -rf "$rpc_dir"
        mkdir -p "$rpc_dir"
        (cd "$rpc_dir" && echo '{"name":"goe-ocpp-rpc","private":true}' >package.json &&
            npm install --silent --no-audit --no-fund --save-exact "ocpp-rpc@$rpc_ver" >/dev/null) ||
            { _goe_venvs_fail "npm install ocpp-rpc@$rpc_ver into $rpc_dir failed (is the npm registry reachable?)"; return 1; }
        node -e "$rpc_check" ||
            { _goe_venvs_fail "after installing, $rpc_dir does not have ocpp-rpc@$rpc_ver"; return 1; }
    fi
    export GOE_OCPP_RPC_DIR="$rpc_dir"
    echo "   GOE_OCPP_RPC_DIR=$rpc_dir"
    # The dashboard's browser test (#16): npm puppeteer-core (no browser
    # download; it drives Debian's chromium) into target/npm/puppeteer-core.
    local pup_dir="$root/target/npm/puppeteer-core" pup_ver="25.16.0"
    local pup_check="process.exit(require('$pup_dir/node_modules/puppeteer-core/package.json').version==='$pup_ver'?0:1)"
    if node -e "$pup_check" >/dev/null 2>&1; then
        echo "== npm puppeteer-core: reused (puppeteer-core@$pup_ver)"
    else
        echo "== npm puppeteer-core: installing puppeteer-core@$pup_ver"
        rm -rf "$pup_dir" && mkdir -p "$pup_dir" || { _goe_venvs_fail "cannot create $pup_dir"; return 1; }
        (cd "$pup_dir" && echo '{"name":"goe-puppeteer","private":true}' >package.json &&
            npm install --silent --no-audit --no-fund --save-exact "puppeteer-core@$pup_ver" >/dev/null) ||
            { _goe_venvs_fail "npm install puppeteer-core@$pup_ver into $pup_dir failed (is the npm registry reachable?)"; return 1; }
        node -e "$pup_check" >/dev/null 2>&1 ||
            { _goe_venvs_fail "after installing, $pup_dir does not have puppeteer-core@$pup_ver"; return 1; }
    fi
    export GOE_PUPPETEER_DIR="$pup_dir"
    echo "   GOE_PUPPETEER_DIR=$pup_dir"
    unset -f _goe_venv _goe_venvs_fail
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    # run directly
    set -euo pipefail
    _goe_venvs_main
else
    # sourced: a failure must stop the caller (scripts/test.sh runs with set -e)
    _goe_venvs_main || { unset -f _goe_venvs_main; return 1; }
    unset -f _goe_venvs_main
fi

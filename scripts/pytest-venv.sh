#!/usr/bin/env bash
# Creates the virtual environment of the pytest plugin's own suite (#18,
# python/pytest-goe-charger/tests, run by crates/goe-charger/tests/pytest_plugin.rs)
# under target/venvs/pytest-goe-charger, with every package pinned, and
# exports its python:
#
#   GOE_VENV_PYTEST   pytest==8.3.4 (+ iniconfig, packaging, pluggy),
#                     hatchling==1.27.0 (the plugin's build backend, + pathspec,
#                     trove-classifiers), goe==0.3.2 (the PyPI client the suite
#                     drives through the fixture, as an integration would)
#
# The plugin itself is installed by the Rust test on every run with
# `pip install --no-index --no-build-isolation --no-deps ./python/pytest-goe-charger`:
# the pinned hatchling here builds it, so that install needs no network.
# Reused while the pins are satisfied, like scripts/client-venvs.sh's venvs.
# Usage: `source scripts/pytest-venv.sh` (scripts/test.sh does) or run it.
# Any failure stops with a message naming it: the suite is never skipped.

_goe_pytest_venv_main() {
    local root
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    local dir="$root/target/venvs/pytest-goe-charger"
    local py="$dir/bin/python"
    local pins=(
        'pytest==8.3.4' 'iniconfig==2.3.1' 'packaging==26.4' 'pluggy==1.7.0'
        'hatchling==1.27.0' 'pathspec==1.1.1' 'trove-classifiers==2026.9.21.13'
        'goe==0.3.2'
    )
    local check='
import sys
from importlib.metadata import version, PackageNotFoundError
for spec in sys.argv[1:]:
    name, want = spec.split("==")
    try:
        if version(name) != want:
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
'
    if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
        echo "FAILED: pytest venv: python3 with the venv module is required (Debian: python3 python3-venv)" >&2
        return 1
    fi
    if [ -x "$py" ] && "$py" -c "$check" "${pins[@]}" >/dev/null 2>&1; then
        echo "== pytest venv: reused (${pins[*]})"
    else
        echo "== pytest venv: installing ${pins[*]}"
        rm -rf "$dir"
        mkdir -p "$root/target/venvs"
        python3 -m venv "$dir" || { echo "FAILED: pytest venv: python3 -m venv $dir failed (Debian: python3-venv)" >&2; return 1; }
        "$py" -m pip install --quiet --disable-pip-version-check "${pins[@]}" ||
            { echo "FAILED: pytest venv: pip install ${pins[*]} into $dir failed (is the Python package registry reachable?)" >&2; return 1; }
        "$py" -c "$check" "${pins[@]}" ||
            { echo "FAILED: pytest venv: $dir does not have ${pins[*]} after installing them" >&2; return 1; }
    fi
    export GOE_VENV_PYTEST="$py"
    echo "   GOE_VENV_PYTEST=$py"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    _goe_pytest_venv_main
else
    _goe_pytest_venv_main || { unset -f _goe_pytest_venv_main; return 1; }
    unset -f _goe_pytest_venv_main
fi

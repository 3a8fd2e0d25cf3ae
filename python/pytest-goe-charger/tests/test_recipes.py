"""The workspace README's CI recipes (contrib/): shown verbatim, and their
goe-charger command lines are ones the binary takes (run here with the
address and data directory swapped for loopback and a temporary one).
The container build and the GitHub Actions job themselves cannot run here."""

import json
import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import List

import pytest

from pytest_goe_charger import ChargerOptions, ChargerProcess, find_binary

ROOT = Path(__file__).resolve().parents[3]
CONTRIB = ROOT / "contrib"
README = (ROOT / "README.md").read_text()


def blocks(lang: str) -> List[str]:
    return [m.group(1) for m in re.finditer(rf"```{lang}\n(.*?)```", README, re.S)]


@pytest.mark.parametrize(
    "name, lang",
    [("goe-charger.service", "ini"), ("Containerfile", "dockerfile"), ("github-actions.yml", "yaml")],
)
def test_the_readme_shows_the_recipe_verbatim(name: str, lang: str) -> None:
    assert (CONTRIB / name).read_text() in blocks(lang), f"README's ```{lang} block differs from contrib/{name}"


def unit_command() -> List[str]:
    unit = (CONTRIB / "goe-charger.service").read_text()
    line = next(l for l in unit.splitlines() if l.startswith("ExecStart="))
    return shlex.split(line[len("ExecStart="):])


def container_command() -> List[str]:
    text = (CONTRIB / "Containerfile").read_text()
    line = next(l for l in text.splitlines() if l.startswith("ENTRYPOINT "))
    return list(json.loads(line[len("ENTRYPOINT "):]))


def flag(args: List[str], name: str) -> str:
    return args[args.index(name) + 1]


def run_locally(args: List[str], tmp_path: Path) -> ChargerProcess:
    """Starts the recipe's command with loopback and a temporary data
    directory (ChargerProcess passes those) and a real clock, as written."""
    rest: List[str] = []
    words = iter(args[1:])
    for word in words:
        if word in ("--listen", "--data-dir"):
            next(words)
        else:
            rest.append(word)
    options = ChargerOptions(seed=None, start=None, clock="real", extra_args=tuple(rest))
    return ChargerProcess(find_binary(), options, tmp_path)


def test_the_systemd_unit_runs_as_written(tmp_path: Path) -> None:
    cmd = unit_command()
    unit = (CONTRIB / "goe-charger.service").read_text()
    assert cmd[0] == "/usr/local/bin/goe-charger"
    assert flag(cmd, "--listen") == "0.0.0.0:80"
    # StateDirectory= makes (and hands the dynamic user) /var/lib/<name>
    assert flag(cmd, "--data-dir") == "/var/lib/goe-charger" and "StateDirectory=goe-charger\n" in unit
    proc = run_locally(cmd, tmp_path)
    try:
        assert "serial=012345" in proc.stderr()
    finally:
        proc.stop()
    assert proc.returncode == 0


def test_the_container_entrypoint_runs_as_written(tmp_path: Path) -> None:
    cmd = container_command()
    text = (CONTRIB / "Containerfile").read_text()
    assert flag(cmd, "--listen") == "0.0.0.0:80" and "\nEXPOSE 80\n" in text
    assert flag(cmd, "--data-dir") == "/data" and "\nVOLUME /data\n" in text
    proc = run_locally(cmd, tmp_path)
    proc.stop()
    assert proc.returncode == 0


def test_the_container_copies_everything_the_build_needs() -> None:
    # the build context it copies: the workspace manifest, lock file and crates
    text = (CONTRIB / "Containerfile").read_text()
    members = re.search(r'members = \["([^"]+)"\]', (ROOT / "Cargo.toml").read_text())
    assert members and members.group(1) == "crates/*"
    assert "COPY Cargo.toml Cargo.lock ./\n" in text and "COPY crates crates\n" in text


def test_the_actions_job_builds_the_binary_the_plugin_finds() -> None:
    job = (CONTRIB / "github-actions.yml").read_text()
    assert "cargo build --release --locked -p goe-charger --manifest-path goe/Cargo.toml" in job
    assert "pip install ./goe/python/pytest-goe-charger" in job
    assert "GOE_CHARGER: ${{ github.workspace }}/goe/target/release/goe-charger" in job
    assert os.path.exists(ROOT / "python/pytest-goe-charger/pyproject.toml")

"""The plugin as pytest runs it (pytester): logs on failure, finding the
binary, teardown, typed start errors."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_goe_charger import BinaryNotFound, find_binary

BINARY = os.environ.get("GOE_CHARGER", "")


def test_the_plugin_is_registered_through_its_entry_point(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--trace-config", "--co", "-q")
    result.stdout.fnmatch_lines(["*goe_charger*pytest_goe_charger*plugin*"])


def test_a_failing_test_gets_the_chargers_logs(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_fails(goe_charger):
            goe_charger.plug()
            assert goe_charger.get("car") == 4
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- Captured stdout goe-charger (http://127.0.0.1:*) -*",
            "pid *, data *",
            "goe-charger listening on http://127.0.0.1:*",
            "*- Captured stderr goe-charger (http://127.0.0.1:*) -*",
            "*INFO goe_charger: charger started serial=012345*",
        ]
    )


def test_a_passing_test_gets_no_log_sections(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_ok(goe_charger):\n    assert goe_charger.get('car') == 1\n")
    result = pytester.runpytest("-rA")
    result.assert_outcomes(passed=1)
    assert "goe-charger (http" not in result.stdout.str()


def test_the_logs_reach_junit_xml(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_fails(goe_fleet):
            assert False
        """
    )
    result = pytester.runpytest("--junitxml=report.xml", "-o", "junit_logging=all")
    result.assert_outcomes(failed=1)
    xml = (pytester.path / "report.xml").read_text()
    assert "goe-charger fleet of 2 chargers" in xml  # stdout -> system-out
    assert "INFO goe_charger: fleet started count=2" in xml  # stderr -> system-err
    assert "goe-charger 100001 listening on http://127.0.0.1:" in xml


def test_every_charger_is_stopped_after_its_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        PIDS = []
        def test_a(goe_charger, goe_charger_factory, goe_fleet):
            PIDS.extend([goe_charger.process.pid, goe_charger_factory().process.pid, goe_fleet.process.pid])
        def test_b():
            import os
            for pid in PIDS:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    continue
                raise AssertionError(f"{pid} still runs")
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_a_charger_that_dies_fails_the_teardown(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import os, signal, time
        def test_kill(goe_charger):
            os.kill(goe_charger.process.pid, signal.SIGKILL)
            while goe_charger.process.running():
                time.sleep(0.01)
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*ProcessExited: goe-charger (pid *) exited by itself with status -9*"])


def test_the_option_names_the_binary(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile("def test_ok(goe_charger):\n    assert goe_charger.get('car') == 1\n")
    env = {k: v for k, v in os.environ.items() if k != "GOE_CHARGER"}
    env["PATH"] = str(tmp_path)  # no goe-charger there
    pytester.makeini("[pytest]\n")
    # the option wins, without GOE_CHARGER or PATH
    ok = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--goe-charger={BINARY}", "-q"],
        cwd=pytester.path, env=env, capture_output=True, text=True,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    # and the ini option
    pytester.makeini(f"[pytest]\ngoe_charger = {BINARY}\n")
    ini = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"],
        cwd=pytester.path, env=env, capture_output=True, text=True,
    )
    assert ini.returncode == 0, ini.stdout + ini.stderr


def test_without_a_binary_the_error_says_what_was_tried(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("GOE_CHARGER", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BinaryNotFound, match=r"tried .*GOE_CHARGER \(unset\), goe-charger on PATH \(not found\)"):
        find_binary()
    monkeypatch.setenv("GOE_CHARGER", str(tmp_path / "nope"))
    with pytest.raises(BinaryNotFound, match=r"GOE_CHARGER=.*nope is not an executable file"):
        find_binary()


def test_a_refused_start_is_a_start_error_with_the_chargers_message(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        @pytest.mark.goe_charger(firmware="099.9")
        def test_bad(goe_charger):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*StartError: goe-charger did not start: the process exited before it listened (exit status *)*"])
    assert "099.9" in result.stdout.str()

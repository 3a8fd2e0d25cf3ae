"""The pytest plugin (entry point ``pytest11``): options, markers, fixtures
and the hook that attaches each charger's logs to a failing test's report.

Fixtures:

- ``goe_charger``: a fresh charger per test (``@pytest.mark.goe_charger(...)``
  sets its :class:`ChargerOptions` fields).
- ``goe_charger_module``: one charger shared by a module's tests (options from
  the module's ``pytestmark``).
- ``goe_charger_factory``: ``start(**options) -> Charger``, any number per test.
- ``goe_fleet``: N chargers in one process (``@pytest.mark.goe_fleet(count=3,
  ...)``, default 2); ``goe_fleet_factory`` starts fleets on demand.
- ``goe_charger_options``: the defaults from the command line and ini file.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, Callable, Dict, Generator, Iterable, List, Optional, Union

import pytest

from .charger import Charger, Fleet
from .options import ChargerOptions, find_binary
from .process import ChargerProcess

_INI = {
    "goe_charger": "path of the goe-charger binary (else GOE_CHARGER, else PATH)",
    "goe_charger_firmware": "firmware profile of started chargers (--firmware), e.g. 056.2",
    "goe_charger_clock": "clock of started chargers: manual (default) or real",
    "goe_charger_start": "simulated start time, RFC 3339 (default 2024-06-03T06:00:00Z)",
    "goe_charger_seed": "seed of started chargers (default 0)",
    "goe_charger_start_timeout": "seconds to wait for the listening line (default 60)",
}

#: Most characters of one log attached to a report (the end is kept).
LOG_LIMIT = 20_000


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--goe-charger PATH`` and the ini options of :data:`_INI`."""
    group = parser.getgroup("goe-charger", "virtual go-eCharger (pytest-goe-charger)")
    group.addoption(
        "--goe-charger",
        dest="goe_charger",
        metavar="PATH",
        default=None,
        help="path of the goe-charger binary (else ini goe_charger, GOE_CHARGER, PATH)",
    )
    for name, help_text in _INI.items():
        parser.addini(name, help_text, default=None)


def pytest_configure(config: pytest.Config) -> None:
    """Registers the two markers."""
    config.addinivalue_line(
        "markers",
        "goe_charger(**options): start options of the goe_charger fixtures "
        "(firmware, seed, start, serial, mqtt, clock, speed, cars, extra_args)",
    )
    config.addinivalue_line(
        "markers",
        "goe_fleet(count=2, fleet_file=None, **options): the goe_fleet fixture's fleet",
    )


def _defaults(config: pytest.Config) -> ChargerOptions:
    opts = ChargerOptions()
    changes: Dict[str, Any] = {}
    for ini, field, conv in (
        ("goe_charger_firmware", "firmware", str),
        ("goe_charger_clock", "clock", str),
        ("goe_charger_start", "start", str),
        ("goe_charger_seed", "seed", int),
        ("goe_charger_start_timeout", "start_timeout", float),
    ):
        value = config.getini(ini)
        if value:
            changes[field] = conv(value)
    return opts.replace(**changes)


def _binary(config: pytest.Config) -> Path:
    return find_binary(config.getoption("goe_charger") or config.getini("goe_charger") or None)


class _Starter:
    """Starts processes for one fixture and stops them all at its end."""

    _count = itertools.count()

    def __init__(self, config: pytest.Config, base: Path, defaults: ChargerOptions) -> None:
        self._config = config
        self._base = base
        self.defaults = defaults
        self.processes: List[ChargerProcess] = []

    def _workdir(self) -> Path:
        return self._base / f"goe-charger-{next(self._count)}"

    def charger(self, **options: Any) -> Charger:
        proc = ChargerProcess(_binary(self._config), self.defaults.replace(**options), self._workdir())
        self.processes.append(proc)
        return Charger(proc, proc.addresses[None])

    def fleet(
        self, count: Optional[int] = None, fleet_file: Union[str, Path, None] = None, **options: Any
    ) -> Fleet:
        if fleet_file is None and count is None:
            count = 2
        proc = ChargerProcess(
            _binary(self._config),
            self.defaults.replace(**options),
            self._workdir(),
            chargers=count if fleet_file is None else None,
            fleet_file=Path(fleet_file) if fleet_file is not None else None,
        )
        self.processes.append(proc)
        return Fleet(proc)

    def stop_all(self) -> None:
        errors = []
        for proc in self.processes:
            try:
                proc.stop()
            except Exception as e:  # stop every process before reporting
                errors.append(e)
        if errors:
            raise errors[0]


class ChargerFactory:
    """``goe_charger_factory``: ``factory(**options)`` starts a charger with
    :class:`ChargerOptions` fields overriding the defaults; all are stopped
    when the test ends."""

    def __init__(self, starter: _Starter) -> None:
        self._starter = starter

    def __call__(self, **options: Any) -> Charger:
        return self._starter.charger(**options)

    @property
    def processes(self) -> List[ChargerProcess]:
        """The processes started so far."""
        return list(self._starter.processes)


class FleetFactory:
    """``goe_fleet_factory``: ``factory(count=N, **options)`` or
    ``factory(fleet_file=PATH, **options)`` starts a fleet (``--chargers N``
    or ``--fleet FILE``, every member on a free port)."""

    def __init__(self, starter: _Starter) -> None:
        self._starter = starter

    def __call__(
        self, count: Optional[int] = None, fleet_file: Union[str, Path, None] = None, **options: Any
    ) -> Fleet:
        return self._starter.fleet(count, fleet_file, **options)

    @property
    def processes(self) -> List[ChargerProcess]:
        """The processes started so far."""
        return list(self._starter.processes)


def _marker_options(request: pytest.FixtureRequest, name: str) -> Dict[str, Any]:
    options: Dict[str, Any] = {}
    # closest last: a test's marker overrides its class's and module's
    for mark in reversed(list(request.node.iter_markers(name))):
        options.update(mark.kwargs)
    return options


@pytest.fixture(scope="session")
def goe_charger_options(pytestconfig: pytest.Config) -> ChargerOptions:
    """The start options from the ini file (``goe_charger_*``)."""
    return _defaults(pytestconfig)


@pytest.fixture
def goe_charger_factory(
    pytestconfig: pytest.Config,
    tmp_path: Path,
    goe_charger_options: ChargerOptions,
) -> Generator[ChargerFactory, None, None]:
    """Starts chargers on demand; stops them when the test ends."""
    starter = _Starter(pytestconfig, tmp_path, goe_charger_options)
    yield ChargerFactory(starter)
    starter.stop_all()


@pytest.fixture
def goe_charger(
    request: pytest.FixtureRequest,
    pytestconfig: pytest.Config,
    tmp_path: Path,
    goe_charger_options: ChargerOptions,
) -> Generator[Charger, None, None]:
    """A fresh charger for this test: 127.0.0.1, a free port, its own data
    directory, a manual clock; options from ``@pytest.mark.goe_charger``."""
    starter = _Starter(pytestconfig, tmp_path, goe_charger_options)
    charger = starter.charger(**_marker_options(request, "goe_charger"))
    yield charger
    starter.stop_all()


@pytest.fixture(scope="module")
def goe_charger_module(
    request: pytest.FixtureRequest,
    pytestconfig: pytest.Config,
    tmp_path_factory: pytest.TempPathFactory,
    goe_charger_options: ChargerOptions,
) -> Generator[Charger, None, None]:
    """One charger for every test of a module (state carries over between
    tests); options from the module's ``pytestmark = pytest.mark.goe_charger(...)``."""
    starter = _Starter(pytestconfig, tmp_path_factory.mktemp("goe-module"), goe_charger_options)
    charger = starter.charger(**_marker_options(request, "goe_charger"))
    yield charger
    starter.stop_all()


@pytest.fixture
def goe_fleet_factory(
    pytestconfig: pytest.Config,
    tmp_path: Path,
    goe_charger_options: ChargerOptions,
) -> Generator[FleetFactory, None, None]:
    """Starts fleets on demand; stops them when the test ends."""
    starter = _Starter(pytestconfig, tmp_path, goe_charger_options)
    yield FleetFactory(starter)
    starter.stop_all()


@pytest.fixture
def goe_fleet(
    request: pytest.FixtureRequest,
    pytestconfig: pytest.Config,
    tmp_path: Path,
    goe_charger_options: ChargerOptions,
) -> Generator[Fleet, None, None]:
    """A fleet for this test (``@pytest.mark.goe_fleet(count=3, ...)``,
    default 2 chargers; ``fleet_file=`` runs a fleet file instead)."""
    starter = _Starter(pytestconfig, tmp_path, goe_charger_options)
    options = _marker_options(request, "goe_fleet")
    fleet = starter.fleet(options.pop("count", None), options.pop("fleet_file", None), **options)
    yield fleet
    starter.stop_all()


# --- logs on failure ----------------------------------------------------------


def _processes_of(values: Iterable[object]) -> List[ChargerProcess]:
    found: List[ChargerProcess] = []
    for value in values:
        procs: List[ChargerProcess] = []
        if isinstance(value, (Charger, Fleet)):
            procs = [value.process]
        elif isinstance(value, (ChargerFactory, FleetFactory)):
            procs = value.processes
        for p in procs:
            if p not in found:
                found.append(p)
    return found


def _tail(text: str) -> str:
    if len(text) <= LOG_LIMIT:
        return text
    return f"[... first {len(text) - LOG_LIMIT} characters left out ...]\n" + text[-LOG_LIMIT:]


_FAILED = pytest.StashKey[List[ChargerProcess]]()


def _add_sections(report: pytest.TestReport, procs: List[ChargerProcess]) -> None:
    for proc in procs:
        names = ", ".join((f"{s} " if s else "") + f"http://{h}" for s, h in proc.addresses.items())
        # "Captured stdout/stderr …": pytest counts these as the test's
        # captured output (--show-capture, JUnit XML with junit_logging=all)
        header = proc.describe() + "\n"
        report.sections.append((f"Captured stdout goe-charger ({names})", header + _tail(proc.stdout())))
        report.sections.append((f"Captured stderr goe-charger ({names})", _tail(proc.stderr())))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    """Adds every charger's stdout and stderr of a failed test as report
    sections: to the failed report (shown under the failure) and again to the
    teardown report, whose captured output JUnit XML records (with
    ``junit_logging = all``)."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.failed:
        funcargs: Dict[str, object] = getattr(item, "funcargs", {}) or {}
        procs = _processes_of(funcargs.values())
        item.stash[_FAILED] = procs
        _add_sections(report, procs)
    elif report.when == "teardown" and _FAILED in item.stash:
        _add_sections(report, item.stash[_FAILED])

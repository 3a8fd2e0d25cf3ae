"""Start options of a charger process and where the binary comes from."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path
from typing import Any, Optional, Sequence, Tuple

from .errors import BinaryNotFound

#: Where simulated time starts unless a test says otherwise: a fixed Monday
#: morning, so a test's status is the same on every run (with the fixed seed).
DEFAULT_START = "2024-06-03T06:00:00Z"


@dataclasses.dataclass(frozen=True)
class ChargerOptions:
    """How to start ``goe-charger``; every field maps to one of its flags.

    ``None`` leaves a flag out (the binary's default applies). The defaults
    make a test deterministic: a manual clock (time moves only through
    :meth:`Charger.advance`), seed 0 and a fixed start time.
    """

    #: ``--firmware``: ``"060.5"`` (the binary's default), ``"056.2"`` or ``"051.4"``.
    firmware: Optional[str] = None
    #: ``--seed`` of every random choice (voltage noise, car behaviour).
    seed: Optional[int] = 0
    #: ``--start``: where simulated time begins, RFC 3339.
    start: Optional[str] = DEFAULT_START
    #: ``--serial`` (fleet: the first serial).
    serial: Optional[str] = None
    #: ``--mqtt``: a broker URL ``mqtt://host:port``; sets ``mce``/``mcu``.
    mqtt: Optional[str] = None
    #: ``--clock``: ``"manual"`` (default) or ``"real"``.
    clock: str = "manual"
    #: ``--speed`` (real clock only).
    speed: Optional[float] = None
    #: ``--cars``: a TOML file of custom car profiles.
    cars: Optional[str] = None
    #: Further command-line arguments, appended as given.
    extra_args: Tuple[str, ...] = ()
    #: Seconds to wait for the listening line(s).
    start_timeout: float = 60.0
    #: Seconds between SIGTERM and SIGKILL when stopping.
    stop_timeout: float = 10.0

    def replace(self, **changes: Any) -> "ChargerOptions":
        """A copy with ``changes`` applied (unknown names raise ``TypeError``)."""
        if "extra_args" in changes:
            changes["extra_args"] = tuple(changes["extra_args"])
        return dataclasses.replace(self, **changes)

    def args(self) -> list[str]:
        """The command-line flags (without ``--listen``/``--data-dir``)."""
        out: list[str] = ["--clock", self.clock]
        pairs: Sequence[Tuple[str, Optional[object]]] = (
            ("--firmware", self.firmware),
            ("--seed", self.seed),
            ("--start", self.start),
            ("--serial", self.serial),
            ("--mqtt", self.mqtt),
            ("--speed", self.speed),
            ("--cars", self.cars),
        )
        for flag, value in pairs:
            if value is not None:
                out += [flag, str(value)]
        out += list(self.extra_args)
        return out


def find_binary(option: Optional[str] = None) -> Path:
    """The ``goe-charger`` to run: ``option`` (``--goe-charger`` or the ini
    option ``goe_charger``) first, then the ``GOE_CHARGER`` environment
    variable, then ``PATH``. Raises :class:`BinaryNotFound` saying what was
    tried."""
    tried: list[str] = []
    for source, value in (
        ("--goe-charger / ini goe_charger", option),
        ("GOE_CHARGER", os.environ.get("GOE_CHARGER")),
    ):
        if value:
            path = Path(value).expanduser()
            if path.is_file() and os.access(path, os.X_OK):
                return path.resolve()
            raise BinaryNotFound(f"{source}={value} is not an executable file")
        tried.append(f"{source} (unset)")
    found = shutil.which("goe-charger")
    if found:
        return Path(found).resolve()
    tried.append("goe-charger on PATH (not found)")
    raise BinaryNotFound(
        "no goe-charger binary: tried "
        + ", ".join(tried)
        + "; build it with `cargo build -p goe-charger` and set GOE_CHARGER=target/debug/goe-charger, "
        "or `cargo install --path crates/goe-charger`"
    )

"""pytest-goe-charger: start a virtual go-eCharger (``goe-charger``) per test.

The fixtures live in :mod:`pytest_goe_charger.plugin` (loaded by pytest
through the ``pytest11`` entry point); the objects they give are
:class:`Charger` and :class:`Fleet`.
"""

from .charger import Charger, Fleet
from .errors import (
    ApiError,
    BinaryNotFound,
    GoeChargerError,
    ProcessExited,
    SetRefused,
    SimRefused,
    StartError,
)
from .options import DEFAULT_START, ChargerOptions, find_binary
from .process import ChargerProcess

__all__ = [
    "ApiError",
    "BinaryNotFound",
    "Charger",
    "ChargerOptions",
    "ChargerProcess",
    "DEFAULT_START",
    "Fleet",
    "GoeChargerError",
    "ProcessExited",
    "SetRefused",
    "SimRefused",
    "StartError",
    "find_binary",
]

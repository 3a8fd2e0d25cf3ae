"""goe_charger_module: one charger for the whole module, options from pytestmark."""

import pytest

from pytest_goe_charger import Charger

pytestmark = pytest.mark.goe_charger(serial="424242")

_seen = []


def test_first_writes(goe_charger_module: Charger) -> None:
    _seen.append(goe_charger_module.process.pid)
    goe_charger_module.set(amp=12)
    assert goe_charger_module.serial == "424242"


def test_second_sees_the_same_charger(goe_charger_module: Charger) -> None:
    assert _seen == [goe_charger_module.process.pid]
    assert goe_charger_module.get("amp") == 12


def test_a_function_charger_is_another_one(goe_charger_module: Charger, goe_charger: Charger) -> None:
    assert goe_charger.host != goe_charger_module.host
    assert goe_charger.get("amp") == 16
    assert goe_charger.serial == "424242"  # the module's marker applies to both

"""goe_fleet and goe_fleet_factory: N chargers on one simulated clock."""

from pathlib import Path

import pytest
from goe.charger import GoEChargerClient
from goe.charger.enums import CarState

from pytest_goe_charger import Fleet


@pytest.mark.goe_fleet(count=3, serial="300001")
def test_three_chargers_with_their_own_ports_and_serials(goe_fleet: Fleet) -> None:
    assert len(goe_fleet) == 3
    assert goe_fleet.serials == ["300001", "300002", "300003"]
    assert len({c.host for c in goe_fleet}) == 3
    for c in goe_fleet:
        assert c.get("sse") == c.serial
    assert [m["serial"] for m in goe_fleet.info()["chargers"]] == goe_fleet.serials


def test_actions_reach_one_member_and_the_clock_moves_all(goe_fleet: Fleet) -> None:
    first, second = goe_fleet
    first.plug(car="ev-1p-16a")
    goe_fleet.advance(10)
    assert first.get("car") == 2 and second.get("car") == 1
    assert first.state()["time"] == second.state()["time"] == "2024-06-03T06:00:10.000Z"
    # /api/set on a member's port writes that member only
    second.set(amp=8)
    assert (first.get("amp"), second.get("amp")) == (16, 8)


def test_an_integration_polls_every_charger_of_a_fleet(goe_fleet_factory) -> None:
    fleet = goe_fleet_factory(count=2)
    fleet.by_serial("100002").plug()
    fleet.advance(10)
    states = {c.serial: GoEChargerClient.local(c.host).get_status().car_state for c in fleet}
    assert states == {"100001": CarState.Idle, "100002": CarState.Charging}


def test_a_fleet_file(goe_fleet_factory, tmp_path: Path) -> None:
    spec = tmp_path / "fleet.toml"
    spec.write_text(
        'base_serial = 500001\n'
        '[[charger]]\ncount = 2\nfirmware = "056.2"\nconfig = { amp = 10 }\n'
    )
    fleet = goe_fleet_factory(fleet_file=spec)
    assert fleet.serials == ["500001", "500002"]
    assert [c.status("fwv", "amp") for c in fleet] == [{"fwv": "56.2", "amp": 10}] * 2

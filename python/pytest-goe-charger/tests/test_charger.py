"""The fixture object against the real binary: API v2, control API, options."""

import re
import time

import pytest

from pytest_goe_charger import ApiError, Charger, SetRefused, SimRefused


def test_url_and_host_name_the_listening_port(goe_charger: Charger) -> None:
    assert re.fullmatch(r"127\.0\.0\.1:[0-9]+", goe_charger.host)
    assert goe_charger.url == f"http://{goe_charger.host}"
    assert goe_charger.host != "127.0.0.1:0"
    assert goe_charger.status("sse") == {"sse": "012345"}
    assert goe_charger.serial == "012345"


def test_status_filters_in_the_chargers_order(goe_charger: Charger) -> None:
    status = goe_charger.status("car", "amp", "alw")
    assert set(status) == {"car", "amp", "alw"}
    assert status["car"] == 1
    full = goe_charger.status()
    assert len(full) > 200 and full["fwv"] == "60.5"


def test_set_json_encodes_values(goe_charger: Charger) -> None:
    assert goe_charger.set(amp=10, fna="garage 1") == {"amp": True, "fna": True}
    assert goe_charger.status("amp", "fna") == {"amp": 10, "fna": "garage 1"}
    # keys that are no Python names, objects and null go through a mapping
    assert goe_charger.set({"ids": {"pGrid": -1000}, "trx": None}) == {"ids": True, "trx": True}


def test_a_refused_set_raises_with_the_chargers_text(goe_charger: Charger) -> None:
    with pytest.raises(SetRefused) as refused:
        goe_charger.set(amp=40, alw=True)
    assert refused.value.errors == {
        "amp": "amp: failed: Value 40 exceeds range 6 to 32 (40)",
        "alw": "alw: tried to set api key without setter (true)",
    }
    assert "Value 40 exceeds range 6 to 32" in str(refused.value)
    assert goe_charger.get("amp") == 16


def test_a_filter_the_firmware_refuses_is_an_api_error(goe_charger: Charger) -> None:
    with pytest.raises(ApiError) as err:
        goe_charger.status("amp", "rfb")
    assert err.value.status == 400
    assert err.value.body == '{"amp":16}'


def test_plug_advance_unplug(goe_charger: Charger) -> None:
    state = goe_charger.plug(car="ev-1p-16a", soc=30)
    assert state["plugged"] is True and state["car_profile"] == "ev-1p-16a"
    goe_charger.advance(10)
    assert goe_charger.get("car") == 2
    assert goe_charger.state()["soc"] > 30
    goe_charger.unplug()
    goe_charger.advance(1)
    assert goe_charger.get("car") == 1


def test_manual_clock_stands_still_until_advanced(goe_charger: Charger) -> None:
    before = goe_charger.state()["time"]
    time.sleep(1.2)
    assert goe_charger.state()["time"] == before
    after = goe_charger.advance(3600)["time"]
    assert after == "2024-06-03T07:00:00.000Z"
    assert before == "2024-06-03T06:00:00.000Z"


def test_grid_and_fault(goe_charger: Charger) -> None:
    grid = goe_charger.grid(pv=6000, house=500, battery=-1000)["grid"]
    assert (grid["pv_w"], grid["house_w"], grid["battery_w"]) == (6000.0, 500.0, -1000.0)
    goe_charger.plug()
    goe_charger.advance(5)
    goe_charger.fault(5)  # Overamp: latched until a replug (docs/compat.md)
    goe_charger.advance(1)
    assert goe_charger.status("car", "err") == {"car": 5, "err": 5}


def test_a_refused_action_raises_with_the_chargers_text(goe_charger: Charger) -> None:
    with pytest.raises(SimRefused) as refused:
        goe_charger.plug(car="truck")
    assert refused.value.status == 400
    assert refused.value.text.startswith('unknown car profile "truck"; known profiles:')


@pytest.mark.goe_charger(firmware="056.2", serial="222333", seed=7, start="2025-01-01T12:00:00Z")
def test_marker_options_reach_the_binary(goe_charger: Charger) -> None:
    assert goe_charger.status("fwv", "sse") == {"sse": "222333", "fwv": "56.2"}
    state = goe_charger.state()
    assert state["seed"] == 7
    assert state["time"] == "2025-01-01T12:00:00.000Z"


def test_factory_options_and_two_chargers(goe_charger_factory) -> None:
    old = goe_charger_factory(firmware="051.4")
    new = goe_charger_factory()
    assert old.host != new.host
    assert old.get("fwv") == "051.4" and new.get("fwv") == "60.5"
    assert old.process.data_dir != new.process.data_dir


def test_real_clock_option(goe_charger_factory) -> None:
    c = goe_charger_factory(clock="real", speed=1000)
    clock = c.state()["clock"]
    assert (clock["mode"], clock["speed"], clock.get("paused", False)) == ("real", 1000.0, False)
    with pytest.raises(SimRefused):
        c.advance(1)


def test_mqtt_option_connects_to_the_broker(goe_charger_factory, mosquitto: str) -> None:
    c = goe_charger_factory(mqtt=mosquitto)
    deadline = time.monotonic() + 30
    while not c.get("mcc"):
        assert time.monotonic() < deadline, f"not connected to {mosquitto}: {c.status('mce', 'mcu', 'mcs', 'mcc')}"
        time.sleep(0.05)
    assert c.status("mce", "mcu") == {"mce": True, "mcu": mosquitto}


def test_the_process_is_stopped_with_sigterm(goe_charger_factory) -> None:
    c = goe_charger_factory()
    proc = c.process
    proc.stop()
    assert not proc.running()
    assert proc.returncode == 0
    assert "charger stopped" in proc.stderr()
    proc.stop()  # a second stop is a no-op

from goe.charger import GoEChargerClient
from goe.charger.enums import CarState


def test_my_integration_sees_the_car_charging(goe_charger):
    goe_charger.set(amp=10)                       # configure, as the app would
    goe_charger.plug(car="ev-3p-11kw", soc=30)    # a car arrives
    goe_charger.advance(10)                       # ten simulated seconds
    status = GoEChargerClient.local(goe_charger.host).get_status()
    assert status.car_state == CarState.Charging
    assert status.allowed_current_now == 10

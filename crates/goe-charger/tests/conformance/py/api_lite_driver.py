"""Driver of goecharger-api-lite 1.5.1 (sync facade over aiohttp < 3.10). See rpc.py."""

import sys
import warnings

from goecharger_api_lite import GoeCharger

from rpc import serve

# aiohttp 3.9 on Python 3.11 warns about event loop use on every call: noise only.
warnings.simplefilter("ignore", DeprecationWarning)

HOST = sys.argv[1]
charger = GoeCharger(HOST)
E = GoeCharger.SettableValueEnum

ops = {
    "get_status_default": lambda: charger.get_status(),
    "get_status_minimum": lambda: charger.get_status(GoeCharger.STATUS_MINIMUM),
    "get_status_full": lambda: charger.get_status(GoeCharger.STATUS_FULL),
    "get_status": lambda keys: charger.get_status(keys if isinstance(keys, str) else tuple(keys)),
    "get_ampere": charger.get_ampere,
    "get_charging_mode": charger.get_charging_mode,
    "get_phase_mode": charger.get_phase_mode,
    "get_absolute_max_current": charger.get_absolute_max_current,
    "get_cable_lock_mode": charger.get_cable_lock_mode,
    "get_charge_limit": charger.get_charge_limit,
    "set_ampere": charger.set_ampere,
    "set_absolute_max_current": charger.set_absolute_max_current,
    "set_charging_mode": lambda name: charger.set_charging_mode(E.ChargingMode[name]),
    "set_phase_mode": lambda name: charger.set_phase_mode(E.PhaseMode[name]),
    "set_cable_lock_mode": lambda name: charger.set_cable_lock_mode(E.CableLockMode[name]),
    "set_charge_limit": charger.set_charge_limit,
    "set_key": charger.set_key,
}

serve(ops, ["goecharger-api-lite", "aiohttp"])

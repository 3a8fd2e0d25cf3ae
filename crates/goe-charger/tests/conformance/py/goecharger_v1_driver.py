"""Driver of goecharger 0.1.0 (API v1: /status and /mqtt?payload=k=v). See rpc.py."""

import sys

from goecharger import GoeCharger

from rpc import serve

HOST = sys.argv[1]
charger = GoeCharger(HOST)

ops = {
    "requestStatus": charger.requestStatus,
    "setMaxCurrent": charger.setMaxCurrent,
    "setTmpMaxCurrent": charger.setTmpMaxCurrent,
    "setAbsoluteMaxCurrent": charger.setAbsoluteMaxCurrent,
    "setAllowCharging": charger.setAllowCharging,
    "setCableLockMode": lambda name: charger.setCableLockMode(GoeCharger.CableLockMode[name]),
    "setAccessType": lambda name: charger.setAccessType(GoeCharger.AccessType[name]),
    "setChargeLimit": charger.setChargeLimit,
    "setLedBrightness": charger.setLedBrightness,
    "setButtonCurrentValue": charger.setButtonCurrentValue,
    "setStandbyColor": charger.setStandbyColor,
}

serve(ops, ["goecharger", "requests"])

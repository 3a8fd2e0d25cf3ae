"""Drives the pinned PyPI client `goecharger` 0.1.0 (API v1) against the
virtual charger (run by tests/push/clients.rs with the venv's python).

usage: goecharger_v1_client.py HOST:PORT status
       goecharger_v1_client.py HOST:PORT set

`status`: `GoeCharger(host).requestStatus()` only.
`set`: `requestStatus()`, then `setMaxCurrent(10)`, `setLedBrightness(100)`
and `setChargeLimit(5.0)` (each a `GET /mqtt?payload=key=value` whose answer
the client maps like a status).

Prints one JSON line with the client's mapped results and exits 0; an
exception exits 1 with its traceback on stderr.
"""

import importlib.metadata
import json
import sys
import traceback


def main():
    host, mode = sys.argv[1:3]
    from goecharger import GoeCharger

    charger = GoeCharger(host)
    out = {"version": importlib.metadata.version("goecharger")}
    out["status"] = charger.requestStatus()
    if mode == "set":
        out["max_current"] = charger.setMaxCurrent(10)
        out["led"] = charger.setLedBrightness(100)
        out["charge_limit"] = charger.setChargeLimit(5.0)
        out["status_after"] = charger.requestStatus()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:
        traceback.print_exc()
        print(f"FAILED: {e!r}", file=sys.stderr, flush=True)
        sys.exit(1)

"""Drives the pinned PyPI client `wattpilot` 0.2 against the virtual charger's
WebSocket API (run by tests/push/clients.rs with the venv's python).

usage: wattpilot_client.py HOST:PORT PASSWORD set AMP
       wattpilot_client.py HOST:PORT PASSWORD wrong

`set`: connect, authenticate, wait for the whole fullStatus, read amp, then
`set_power(AMP)` (a securedMsg with HMAC) and wait for the response.
`wrong`: the password is wrong: expect authError and no connection.

Prints one JSON line with what the client saw and exits 0; any failure exits 1
with the reason on stderr (plus the client's own log).
"""

import importlib.metadata
import json
import logging
import os
import sys
import threading
import time

TIMEOUT = 30.0


def fail(reason, seen):
    print(f"FAILED: {reason}; message types seen: {seen}", file=sys.stderr, flush=True)
    os._exit(1)


def main():
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(name)s %(levelname)s %(message)s")
    host, password, mode = sys.argv[1:4]
    import wattpilot

    seen = []
    full_done = threading.Event()
    auth_error = threading.Event()
    responses = []
    response_arrived = threading.Event()

    def on_message(_wp, _wsapp, msg, raw):
        seen.append(msg.type)
        if msg.type == "fullStatus" and json.loads(raw).get("partial") is False:
            full_done.set()
        elif msg.type == "authError":
            auth_error.set()
        elif msg.type == "response":
            responses.append(json.loads(raw))
            response_arrived.set()

    w = wattpilot.Wattpilot(host, password)
    w.register_message_callback(on_message)
    w.connect()
    out = {"version": importlib.metadata.version("wattpilot")}

    if mode == "wrong":
        if not auth_error.wait(TIMEOUT):
            fail("no authError for a wrong password", seen)
        time.sleep(0.5)  # anything after authError would arrive now
        out.update(connected=w.connected, types=seen)
        print(json.dumps(out), flush=True)
        os._exit(0)

    target = int(sys.argv[4])
    if not full_done.wait(TIMEOUT):
        fail("no complete fullStatus after authentication", seen)
    if not w.connected:
        fail("fullStatus arrived but the client does not say connected", seen)
    out.update(
        serial=w.serial,
        manufacturer=w.manufacturer,
        devicetype=w.devicetype,
        protocol=w.protocol,
        secured=w.secured,
        firmware=w.firmware,
        amp_before=w.amp,
        props=len(w.allProps),
    )
    w.set_power(target)
    if not response_arrived.wait(TIMEOUT):
        fail(f"no response to set_power({target})", seen)
    end = time.time() + TIMEOUT
    while w.amp != target and time.time() < end:
        time.sleep(0.05)
    out.update(response=responses[0], amp_after=w.amp, types=sorted(set(seen)))
    print(json.dumps(out), flush=True)
    os._exit(0)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # the client's own error, shown by the Rust test
        import traceback
        traceback.print_exc()
        print(f"FAILED: {e!r}", file=sys.stderr, flush=True)
        os._exit(1)

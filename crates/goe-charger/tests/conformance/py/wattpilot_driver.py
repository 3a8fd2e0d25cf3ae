"""Driver of wattpilot 0.2 (WebSocket: hello, PBKDF2 auth, fullStatus, deltaStatus,
securedMsg writes). See rpc.py.

The library runs its socket in a thread and reports through callbacks and
logging, so the driver waits for messages (bounded) and returns what the
library made of them. Errors the library only logs (a failed `response`, an
exception inside its message callback) come back as `logged_errors`.
"""

import sys
import threading
import time

import wattpilot

from rpc import serve

HOST = sys.argv[1]
TIMEOUT = 30.0

lock = threading.Lock()
seen = []  # (type, message namespace) in arrival order
client = None


def on_message(_wp, _wsapp, msg, _raw):
    with lock:
        seen.append((msg.type, msg))


def wait_for(pred, what):
    end = time.monotonic() + TIMEOUT
    while time.monotonic() < end:
        with lock:
            if pred():
                return
        time.sleep(0.01)
    with lock:
        types = [t for t, _ in seen]
    raise TimeoutError(f"wattpilot: no {what} within {TIMEOUT} s; messages so far: {types}")


def full_status_done():
    return any(t == "fullStatus" and not getattr(m, "partial", False) for t, m in seen)


def connect(password):
    global client
    with lock:
        seen.clear()
    client = wattpilot.Wattpilot(HOST, password)
    client.register_message_callback(on_message)
    client.connect()
    wait_for(lambda: client.connected and full_status_done(), "authSuccess and complete fullStatus")
    with lock:
        types = [t for t, _ in seen]
    return {
        "connected": client.connected,
        "serial": client.serial,
        "manufacturer": client.manufacturer,
        "devicetype": client.devicetype,
        "protocol": client.protocol,
        "secured": client.secured,
        "version": client.version,
        "messages": types,
        "props": len(client._allProps),
    }


def connect_wrong(password):
    """Connects with a wrong password; returns what the library saw."""
    global client
    with lock:
        seen.clear()
    client = wattpilot.Wattpilot(HOST, password)
    client.register_message_callback(on_message)
    client.connect()
    wait_for(lambda: any(t == "authError" for t, _ in seen), "authError")
    msg = next(m for t, m in seen if t == "authError")
    # give the library a moment to act on it (it closes the socket)
    time.sleep(0.2)
    return {"connected": client.connected, "message": getattr(msg, "message", None)}


def props():
    c = client
    return {
        "amp": c.amp,
        "carConnected": c.carConnected,
        "AllowCharging": c.AllowCharging,
        "mode": c.mode,
        "cableLock": c.cableLock,
        "errorState": c.errorState,
        "AccessState": c.AccessState,
        "firmware": c.firmware,
        "power": c.power,
        "voltage1": c.voltage1,
        "amps1": c.amps1,
        "amps2": c.amps2,
        "amps3": c.amps3,
        "energyCounterTotal": c.energyCounterTotal,
        "energyCounterSinceStart": c.energyCounterSinceStart,
        "frequency": c.frequency,
        "phases": c.phases,
        "cableType": c.cableType,
        "allPropsInitialized": c.allPropsInitialized,
    }


def prop(key):
    return client.allProps.get(key) if key != "*" else dict(client._allProps)


def send_update(key, value):
    """A secured setValue; waits for its `response` and returns it."""
    with lock:
        before = len(seen)
    client.send_update(key, value)
    wait_for(lambda: any(t == "response" for t, _ in seen[before:]), f"response to setValue {key}")
    with lock:
        msg = next(m for t, m in seen[before:] if t == "response")
    status = getattr(msg, "status", None)
    return {
        "requestId": msg.requestId,
        "success": msg.success,
        "status": status.__dict__ if status is not None else None,
        "message": getattr(msg, "message", None),
    }


def wait_prop(key, value):
    wait_for(lambda: client._allProps.get(key) == value, f"{key} == {value!r} in the library's properties")
    return client._allProps.get(key)


def set_power(amps):
    with lock:
        before = len(seen)
    client.set_power(amps)
    wait_for(lambda: any(t == "response" for t, _ in seen[before:]), "response to set_power")
    return client.amp


def set_mode(mode):
    with lock:
        before = len(seen)
    client.set_mode(mode)
    wait_for(lambda: any(t == "response" for t, _ in seen[before:]), "response to set_mode")
    return client.mode


def delta_count():
    with lock:
        return sum(1 for t, _ in seen if t == "deltaStatus")


serve(
    {
        "connect": connect,
        "connect_wrong": connect_wrong,
        "props": props,
        "prop": prop,
        "send_update": send_update,
        "wait_prop": wait_prop,
        "set_power": set_power,
        "set_mode": set_mode,
        "delta_count": delta_count,
    },
    ["wattpilot", "websocket-client"],
)

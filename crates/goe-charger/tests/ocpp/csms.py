"""An OCPP 1.6J backend (CSMS) for the OCPP tests of goe-charger (issue #14).

Built on mobilityhouse `ocpp` (PyPI, pinned 2.1.0) and `websockets` (17.4):
every CALL the charge point sends and every CALLRESULT it returns to one of our
calls is validated by `ocpp` against the official OCPP 1.6 JSON schemas it
bundles. On top of that this driver checks what the library does not: the
OCPP-J frame shape (types, unique-id length, CALLERROR codes of the 1.6 list),
unique ids per connection, at most one outstanding CALL from the charge point
(OCPP-J 4.1.1), timestamps in RFC 3339 with an offset, and the `ocpp1.6`
subprotocol. Each failure is a *violation*; the tests end with none.

Remote control: JSON lines on stdin/stdout, the style of the conformance
suite's `rpc.py`. The first line is
``{"ready": true, "versions": {...}, "port": PORT}`` (the CSMS listens on
127.0.0.1:PORT, port 0 by default = a free one). Then each request
``{"op": "name", "args": {...}}`` gets one answer line
``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "..."}``.

Ops (args in brackets, all optional unless said):
- ``options`` {boot, interval, authorize, start_status, slow, close_on,
  garbage_on, drop_on, overlap_grace}: how the CSMS answers (see `Options`).
- ``wait_connect`` {count=1, timeout=30}: the first `count` connections.
- ``wait_for`` {action (required), count=1, timeout=30, since=0, cp}: waits
  until the charge point sent `count` CALLs of `action` (after frame index
  `since`); returns them ``[{i, id, payload, t}]``.
- ``wait_rx`` {since=0, type (2/3/4 or null = any), timeout=30, cp}: the first
  frame received after `since` of that type (``null`` on timeout).
- ``call`` {action (required), payload={}, timeout=30, validate=true, cp}: a
  CSMS-initiated CALL; returns ``{"type":"result","payload":…}``,
  ``{"type":"error","code":…,"description":…,"details":…}`` or
  ``{"type":"timeout"}``. The request is schema-checked before it is sent
  unless `validate` is false (to send what a broken CSMS would).
- ``call_async`` (same args) → a handle; ``result`` {handle, timeout=30}.
- ``send_raw`` {text (required), cp}: sends a text frame as it is (garbage).
- ``wait_cp`` {timeout=30}: waits until a charge point is connected.
- ``close`` {cp, code=1000}: closes the connection from the CSMS side.
- ``mark``: the index the next frame gets (a `since` for later waits).
- ``frames`` {since=0}, ``violations``, ``connections``.
- ``fake_cp`` {url (required), identity, user, password, invalid=false}: a
  fake charge point built on `ocpp` itself connects to `url` (the harness's
  self-test: proves this driver without goe-charger). With `invalid` it sends
  one schema-invalid StatusNotification.

CLI: ``csms.py [--port P] [--basic-auth user:pass] [--log FILE.jsonl]``.
"""

import argparse
import asyncio
import base64
import json
import logging
import re
import sys
import time
import traceback
from datetime import datetime, timezone
from importlib.metadata import version

import websockets
from websockets.asyncio.server import serve, basic_auth
from websockets.asyncio.client import connect as ws_connect

from ocpp.messages import Call, CallResult, MessageType, unpack, validate_payload
from ocpp.routing import on
from ocpp.v16 import ChargePoint as CpBase
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action

LOG = logging.getLogger("csms")
SUBPROTOCOL = "ocpp1.6"

# OCPP-J 1.6 §4.2.3 error codes, with the 1.6 spellings (errata: kept), plus
# the spellings the corrected OCPP-J/mobilityhouse use, which receivers meet.
ERROR_CODES = {
    "NotImplemented", "NotSupported", "InternalError", "ProtocolError", "SecurityError",
    "FormationViolation", "PropertyConstraintViolation", "OccurenceConstraintViolation",
    "TypeConstraintViolation", "GenericError",
    "FormatViolation", "OccurrenceConstraintViolation",
}
# RFC 3339 date-time with an offset (OCPP 1.6 §3.15: ISO 8601, UTC advised)
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def now_iso():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Options:
    """How the CSMS answers; changed at run time by the `options` op."""

    def __init__(self):
        # BootNotification.conf status: one string, or a list used in order
        # (the last one repeats): ["Pending", "Accepted"].
        self.boot = "Accepted"
        # BootNotification.conf interval (s): heartbeat when Accepted, retry otherwise.
        self.interval = 60
        # Authorize/StartTransaction idTagInfo status: {"default": "Accepted", "tags": {"X": "Invalid"}}
        self.authorize = {"default": "Accepted", "tags": {}}
        # {action: seconds}: answer that action after a delay (real time)
        self.slow = {}
        # {action: n}: close the socket when that CALL arrives, the next n times
        self.close_on = {}
        # {action: text}: answer that CALL with this text instead (garbage)
        self.garbage_on = {}
        # {action: n}: do not answer that CALL, the next n times
        self.drop_on = {}
        # a second CP CALL while one is unanswered for less than this (s) is a violation
        self.overlap_grace = 10.0

    def update(self, args):
        for k, v in args.items():
            if not hasattr(self, k):
                raise KeyError(f"unknown option {k}")
            setattr(self, k, v)

    def boot_status(self, n):
        if isinstance(self.boot, list):
            return self.boot[min(n, len(self.boot) - 1)]
        return self.boot

    def tag_status(self, id_tag):
        return self.authorize.get("tags", {}).get(id_tag, self.authorize.get("default", "Accepted"))


class Recorder:
    """Every frame, connection and violation, in memory (and in a JSONL file)."""

    def __init__(self, path):
        self.f = open(path, "a", buffering=1) if path else None
        self.frames = []
        self.violations = []
        self.connections = []
        self.changed = asyncio.Condition()

    async def _notify(self):
        async with self.changed:
            self.changed.notify_all()

    def _log(self, rec):
        if self.f:
            self.f.write(json.dumps(rec, default=repr) + "\n")

    def frame(self, cp, direction, raw):
        rec = {"i": len(self.frames), "t": time.time(), "cp": cp, "dir": direction, "raw": raw}
        try:
            rec["msg"] = json.loads(raw)
        except Exception:
            rec["msg"] = None
        self.frames.append(rec)
        self._log({"kind": direction, **rec})
        asyncio.ensure_future(self._notify())
        return rec

    def violation(self, cp, where, error):
        rec = {"cp": cp, "where": where, "error": error, "t": time.time()}
        self.violations.append(rec)
        self._log({"kind": "violation", **rec})
        LOG.warning("violation %s", rec)

    def connection(self, rec):
        rec["t"] = time.time()
        self.connections.append(rec)
        self._log({"kind": "connection", **rec})
        asyncio.ensure_future(self._notify())

    async def wait(self, pred, timeout):
        """Waits until `pred()` returns something truthy; returns it (None on timeout)."""
        end = time.monotonic() + timeout
        async with self.changed:
            while True:
                v = pred()
                if v:
                    return v
                left = end - time.monotonic()
                if left <= 0:
                    return None
                try:
                    await asyncio.wait_for(self.changed.wait(), min(left, 0.5))
                except asyncio.TimeoutError:
                    pass


def check_timestamps(value, path, out):
    """Collects `timestamp` fields that are not RFC 3339 with an offset."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "timestamp" and not (isinstance(v, str) and RFC3339.match(v)):
                out.append(f"{path}/{k} = {v!r} is not an RFC 3339 date-time with offset")
            check_timestamps(v, f"{path}/{k}", out)
    elif isinstance(value, list):
        for n, v in enumerate(value):
            check_timestamps(v, f"{path}/{n}", out)


def frame_shape_error(msg):
    """What is wrong with the OCPP-J shape of a received frame (None when fine)."""
    if not isinstance(msg, list) or not msg:
        return "not a JSON array"
    t = msg[0]
    if t not in (2, 3, 4) or isinstance(t, bool):
        return f"unknown message type {t!r}"
    want = {2: 4, 3: 3, 4: 5}[t]
    if len(msg) != want:
        return f"message type {t} has {len(msg)} elements, must have {want}"
    # a CALLERROR to a frame whose id could not be read may carry an empty id
    if not isinstance(msg[1], str) or len(msg[1]) > 36 or (t != 4 and not msg[1]):
        return f"unique id {msg[1]!r} must be a string of 1 to 36 characters"
    if t == 2:
        if not isinstance(msg[2], str):
            return "action is not a string"
        if not isinstance(msg[3], dict):
            return "CALL payload is not an object"
    if t == 3 and not isinstance(msg[2], dict):
        return "CALLRESULT payload is not an object"
    if t == 4:
        if msg[2] not in ERROR_CODES:
            return f"CALLERROR code {msg[2]!r} is not an OCPP-J 1.6 code"
        if not isinstance(msg[3], str):
            return "CALLERROR description is not a string"
        if not isinstance(msg[4], dict):
            return "CALLERROR details is not an object"
    return None


class CentralSystemCP(CpBase):
    """The CSMS's side of one connected charge point."""

    def __init__(self, cp_id, conn, csms):
        super().__init__(cp_id, conn, response_timeout=30)
        self.csms = csms
        self.rec = csms.rec
        self.opt = csms.opt
        self.next_tx = 1
        self.cp_call_ids = set()
        self.pending_cp_call = None  # (unique id, monotonic time) of the CP's unanswered CALL

    def violation(self, where, error):
        self.rec.violation(self.id, where, error)

    async def route_message(self, raw_msg):
        rec = self.rec.frame(self.id, "rx", raw_msg)
        msg = rec["msg"]
        if msg is None:
            self.violation("frame", f"not JSON: {raw_msg[:200]!r}")
            return
        shape = frame_shape_error(msg)
        if shape:
            self.violation("frame", f"{shape}: {raw_msg[:200]}")
            return
        if msg[0] == MessageType.Call:
            uid, action, payload = msg[1], msg[2], msg[3]
            if uid in self.cp_call_ids:
                self.violation("frame", f"CALL unique id {uid!r} used twice on this connection")
            self.cp_call_ids.add(uid)
            if self.pending_cp_call is not None:
                prev, since = self.pending_cp_call
                if time.monotonic() - since < self.opt.overlap_grace:
                    self.violation("synchronicity",
                                   f"CALL {uid} ({action}) sent while CALL {prev} is unanswered")
            self.pending_cp_call = (uid, time.monotonic())
            ts = []
            check_timestamps(payload, action, ts)
            for e in ts:
                self.violation("timestamp", e)
            if self.opt.close_on.get(action, 0) > 0:
                self.opt.close_on[action] -= 1
                self.pending_cp_call = None
                await self._connection.close(code=1000, reason="closed mid-call by the test")
                return
            if self.opt.drop_on.get(action, 0) > 0:
                self.opt.drop_on[action] -= 1
                self.pending_cp_call = None
                return
            if action in self.opt.garbage_on:
                self.pending_cp_call = None
                await self._send_raw(self.opt.garbage_on[action])
                return
            delay = self.opt.slow.get(action)
            if delay:
                async def later():
                    await asyncio.sleep(delay)
                    await self._route(raw_msg)
                asyncio.ensure_future(later())
                return
        await self._route(raw_msg)

    async def _route(self, raw_msg):
        try:
            await super().route_message(raw_msg)
        except websockets.ConnectionClosed:
            pass
        except Exception as e:  # never die on bad CP input
            self.violation("route", repr(e))

    async def _send(self, message):
        try:
            m = json.loads(message)
        except Exception:
            m = None
        if isinstance(m, list) and m and m[0] in (3, 4):
            if self.pending_cp_call and self.pending_cp_call[0] == m[1]:
                self.pending_cp_call = None
            if m[0] == 4:
                # the library answers a schema-invalid (or unknown) CP request with a CALLERROR
                self.violation("cp-call", m[2:])
        await self._send_raw(message)

    async def _send_raw(self, text):
        self.rec.frame(self.id, "tx", text)
        await self._connection.send(text)

    async def csms_call(self, action, payload, timeout, validate):
        """A CALL of ours; the CP's CALLRESULT is schema-checked."""
        uid = str(self._unique_id_generator())
        msg = Call(unique_id=uid, action=action, payload=payload)
        if validate:
            await validate_payload(msg, self._ocpp_version)
        async with self._call_lock:
            await self._send_raw(msg.to_json())
            try:
                response = await self._get_specific_response(uid, timeout)
            except asyncio.TimeoutError:
                return {"type": "timeout"}
        if response.message_type_id == MessageType.CallError:
            return {"type": "error", "code": response.error_code,
                    "description": response.error_description, "details": response.error_details}
        out = {"type": "result", "payload": response.payload}
        try:
            check = CallResult(unique_id=uid, payload=response.payload, action=action)
            await validate_payload(check, self._ocpp_version)
        except Exception as e:
            self.violation(f"result {action}", f"{type(e).__name__}: {e}")
            out["invalid"] = f"{type(e).__name__}: {e}"
        return out

    # ---- CP -> CSMS: everything a go-e sends ----
    @on(Action.boot_notification)
    async def on_boot(self, charge_point_vendor, charge_point_model, **kw):
        n = self.csms.boots
        self.csms.boots += 1
        return call_result.BootNotification(current_time=now_iso(), interval=self.opt.interval,
                                            status=self.opt.boot_status(n))

    @on(Action.heartbeat)
    async def on_heartbeat(self):
        return call_result.Heartbeat(current_time=now_iso())

    @on(Action.status_notification)
    async def on_status(self, connector_id, error_code, status, **kw):
        return call_result.StatusNotification()

    @on(Action.authorize)
    async def on_authorize(self, id_tag):
        return call_result.Authorize(id_tag_info={"status": self.opt.tag_status(id_tag)})

    @on(Action.start_transaction)
    async def on_start(self, connector_id, id_tag, meter_start, timestamp, **kw):
        tx = self.csms.next_tx
        self.csms.next_tx += 1
        return call_result.StartTransaction(transaction_id=tx,
                                            id_tag_info={"status": self.opt.tag_status(id_tag)})

    @on(Action.stop_transaction)
    async def on_stop(self, meter_stop, timestamp, transaction_id, **kw):
        id_tag = kw.get("id_tag")
        if id_tag is None:
            return call_result.StopTransaction()
        return call_result.StopTransaction(id_tag_info={"status": self.opt.tag_status(id_tag)})

    @on(Action.meter_values)
    async def on_meter_values(self, connector_id, meter_value, **kw):
        return call_result.MeterValues()

    @on(Action.firmware_status_notification)
    async def on_fw_status(self, status):
        return call_result.FirmwareStatusNotification()

    @on(Action.diagnostics_status_notification)
    async def on_diag_status(self, status):
        return call_result.DiagnosticsStatusNotification()

    @on(Action.data_transfer)
    async def on_data_transfer(self, vendor_id, **kw):
        return call_result.DataTransfer(status="UnknownVendorId")


class Csms:
    def __init__(self, args):
        self.args = args
        self.rec = Recorder(args.log)
        self.opt = Options()
        self.cps = {}        # identity -> CentralSystemCP (the current connection)
        self.last_cp = None
        self.boots = 0
        self.next_tx = 1
        self.handles = {}
        self.port = None

    def cp(self, ident):
        if ident is None:
            ident = self.last_cp
        cp = self.cps.get(ident)
        if cp is None:
            raise RuntimeError(f"no charge point {ident!r} is connected (connected: {list(self.cps)})")
        return cp

    async def handler(self, conn):
        path = conn.request.path
        ident = path.rstrip("/").split("/")[-1] or "unknown"
        auth = conn.request.headers.get("Authorization")
        user = None
        if auth and auth.startswith("Basic "):
            try:
                user = base64.b64decode(auth[6:]).decode().split(":", 1)[0]
            except Exception:
                user = "(undecodable)"
        info = {"event": "connect", "cp": ident, "path": path, "subprotocol": conn.subprotocol,
                "offered": conn.request.headers.get("Sec-WebSocket-Protocol"), "user": user}
        if conn.subprotocol != SUBPROTOCOL:
            self.rec.violation(ident, "handshake", f"subprotocol {conn.subprotocol!r}, offered {info['offered']!r}")
            self.rec.connection(info)
            await conn.close(code=1002, reason="ocpp1.6 required")
            return
        self.rec.connection(info)
        cp = CentralSystemCP(ident, conn, self)
        self.cps[ident] = cp
        self.last_cp = ident
        try:
            await cp.start()
        except websockets.ConnectionClosed as e:
            close = {"code": e.rcvd.code if e.rcvd else None}
        except Exception as e:
            self.rec.violation(ident, "connection", repr(e))
            close = {"error": repr(e)}
        else:
            close = {}
        finally:
            if self.cps.get(ident) is cp:
                del self.cps[ident]
        self.rec.connection({"event": "disconnect", "cp": ident, **close})

    # ---- ops ----
    async def op_options(self, **a):
        self.opt.update(a)
        return {k: v for k, v in vars(self.opt).items()}

    async def op_wait_connect(self, count=1, timeout=30):
        got = await self.rec.wait(
            lambda: [c for c in self.rec.connections if c["event"] == "connect"][:count]
            if sum(c["event"] == "connect" for c in self.rec.connections) >= count else None, timeout)
        if not got:
            raise TimeoutError(f"no {count} connection(s) within {timeout} s; so far {self.rec.connections}")
        return got

    def _calls(self, action, since, cp):
        return [{"i": f["i"], "id": f["msg"][1], "payload": f["msg"][3], "t": f["t"], "cp": f["cp"]}
                for f in self.rec.frames[since:]
                if f["dir"] == "rx" and isinstance(f["msg"], list) and len(f["msg"]) == 4
                and f["msg"][0] == 2 and f["msg"][2] == action and (cp is None or f["cp"] == cp)]

    async def op_wait_for(self, action, count=1, timeout=30, since=0, cp=None):
        if count == 0:
            return self._calls(action, since, cp)
        got = await self.rec.wait(lambda: (lambda c: c if len(c) >= count else None)(
            self._calls(action, since, cp)), timeout)
        if got is None:
            seen = [f["msg"][2] for f in self.rec.frames[since:]
                    if f["dir"] == "rx" and isinstance(f["msg"], list) and len(f["msg"]) == 4]
            raise TimeoutError(f"{count} {action} not received within {timeout} s "
                               f"(got {len(self._calls(action, since, cp))}); CALLs since {since}: {seen}")
        return got

    async def op_wait_rx(self, since=0, type=None, timeout=30, cp=None):
        def first():
            for f in self.rec.frames[since:]:
                if f["dir"] != "rx" or (cp is not None and f["cp"] != cp):
                    continue
                m = f["msg"]
                if type is None or (isinstance(m, list) and m and m[0] == type):
                    return f
            return None
        return await self.rec.wait(first, timeout)

    async def op_wait_cp(self, timeout=30):
        got = await self.rec.wait(lambda: list(self.cps) or None, timeout)
        if not got:
            raise TimeoutError(f"no charge point connected within {timeout} s")
        return got

    async def op_call(self, action, payload=None, timeout=30, validate=True, cp=None):
        return await self.cp(cp).csms_call(action, payload or {}, timeout, validate)

    async def op_call_async(self, **a):
        h = len(self.handles) + 1
        self.handles[h] = asyncio.ensure_future(self.op_call(**a))
        return h

    async def op_result(self, handle, timeout=30):
        return await asyncio.wait_for(self.handles.pop(handle), timeout)

    async def op_send_raw(self, text, cp=None):
        c = self.cp(cp)
        i = len(self.rec.frames)
        await c._send_raw(text)
        return i

    async def op_close(self, cp=None, code=1000):
        await self.cp(cp)._connection.close(code=code, reason="closed by the test")
        return True

    async def op_mark(self):
        return len(self.rec.frames)

    async def op_frames(self, since=0):
        return self.rec.frames[since:]

    async def op_violations(self):
        return self.rec.violations

    async def op_connections(self):
        return self.rec.connections

    async def op_fake_cp(self, url, identity=None, user=None, password=None, invalid=False):
        ident = identity or url.rstrip("/").split("/")[-1]
        hdrs = {}
        if user is not None:
            hdrs["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        ws = await ws_connect(url, subprotocols=[SUBPROTOCOL], additional_headers=hdrs)
        cp = FakeCP(ident, ws, response_timeout=5)
        asyncio.ensure_future(cp.start())
        boot = await cp.call(call.BootNotification(
            charge_point_vendor="go-e", charge_point_model="go-eCharger_V4",
            charge_point_serial_number=ident, firmware_version="60.5"))
        await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Available",
                                              timestamp=now_iso()))
        if invalid:
            await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Sleeping"),
                          skip_schema_validation=True)
        return {"boot": boot.status}

    async def serve_ops(self):
        out = sys.stdout
        out.write(json.dumps({"ready": True, "port": self.port,
                              "versions": {p: version(p) for p in ("ocpp", "websockets")}}) + "\n")
        out.flush()
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                return
            if not line.strip():
                continue
            try:
                req = json.loads(line)
                fn = getattr(self, "op_" + req["op"])
                result = await fn(**(req.get("args") or {}))
                answer = {"ok": True, "result": result}
            except BaseException as e:
                answer = {"ok": False, "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()}
            out.write(json.dumps(answer, default=repr) + "\n")
            out.flush()

    async def run(self):
        kw = dict(subprotocols=[SUBPROTOCOL], ping_interval=None, max_size=2**20)
        if self.args.basic_auth:
            user, pw = self.args.basic_auth.split(":", 1)
            check = basic_auth(realm="ocpp", credentials=(user, pw))

            async def process_request(conn, request):
                refused = await check(conn, request)
                if refused is not None:
                    self.rec.connection({"event": "refused", "path": request.path,
                                         "status": refused.status_code,
                                         "had_auth": "Authorization" in request.headers})
                return refused
            kw["process_request"] = process_request
        async with serve(self.handler, "127.0.0.1", self.args.port, **kw) as server:
            self.port = server.sockets[0].getsockname()[1]
            await self.serve_ops()


class FakeCP(CpBase):
    """A charge point made with `ocpp` itself, only to prove this driver (not a model of the go-e)."""

    @on(Action.get_configuration)
    async def gc(self, key=None):
        return call_result.GetConfiguration(
            configuration_key=[{"key": "HeartbeatInterval", "readonly": False, "value": "60"}],
            unknown_key=[k for k in (key or []) if k != "HeartbeatInterval"] or None)

    @on(Action.change_configuration)
    async def cc(self, key, value):
        return call_result.ChangeConfiguration(status="Accepted")

    @on(Action.reset)
    async def rs(self, type):
        return call_result.Reset(status="Accepted")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log", default=None, help="JSONL record of all frames and violations")
    ap.add_argument("--basic-auth", default=None, help="user:pass required from the charge point")
    ap.add_argument("-v", action="store_true")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO if args.v else logging.CRITICAL, stream=sys.stderr)
    try:
        asyncio.run(Csms(args).run())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

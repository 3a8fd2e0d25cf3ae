"""JSON-lines remote control of an unchanged client library.

The Rust conformance suite starts a driver (``python -u <driver>.py HOST:PORT``)
in the client's own virtual environment. The driver imports the client from
PyPI as installed, builds its objects, and serves requests on stdin, one JSON
object a line: ``{"op": "name", "args": [...]}``. Every answer is one line:
``{"ok": true, "result": ...}`` or, when the client raised,
``{"ok": false, "error": "Type: message", "traceback": "..."}``, so a client
failure reaches the test with the client's own error. The first line a driver
prints is ``{"ready": true, "versions": {...}}`` with the installed versions.
"""

import dataclasses
import datetime
import enum
import json
import logging
import sys
import traceback
from collections.abc import Mapping, Sequence
from importlib.metadata import version


class ErrorLog(logging.Handler):
    """Collects every log record at ERROR or above (clients that log instead of raising)."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records = []

    def emit(self, record):
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info))
        self.records.append(f"{record.name}: {text}")

    def take(self):
        out, self.records = self.records, []
        return out


ERRORS = ErrorLog()
logging.getLogger().addHandler(ERRORS)


def plain(v):
    """A JSON-able copy of what a client returned (dataclasses, enums, times, sequences)."""
    if isinstance(v, enum.Enum):
        return v.name
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {f.name: plain(getattr(v, f.name)) for f in dataclasses.fields(v)}
    if isinstance(v, datetime.timedelta):
        return v.total_seconds()
    if isinstance(v, (datetime.datetime, datetime.date)):
        return v.isoformat()
    if isinstance(v, Mapping):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (str, bytes)):
        return v if isinstance(v, str) else v.decode("utf-8", "replace")
    if isinstance(v, Sequence):
        return [plain(x) for x in v]
    if v is None or isinstance(v, (bool, int, float)):
        return v
    return repr(v)


def serve(ops, packages):
    """Answers requests on stdin with the functions in ``ops`` until stdin closes."""
    out = sys.stdout
    versions = {p: version(p) for p in packages}
    out.write(json.dumps({"ready": True, "versions": versions}) + "\n")
    out.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            result = ops[req["op"]](*req.get("args", []))
            answer = {"ok": True, "result": plain(result)}
        except BaseException as e:  # the client's own error goes back to the test
            answer = {
                "ok": False,
                "error": f"{type(e).__name__}: {e}",
                "traceback": traceback.format_exc(),
            }
        logged = ERRORS.take()
        if logged:
            answer["logged_errors"] = logged
        out.write(json.dumps(answer, default=repr) + "\n")
        out.flush()

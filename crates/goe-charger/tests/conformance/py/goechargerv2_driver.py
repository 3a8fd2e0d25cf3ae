"""Driver of goechargerv2 0.2.2 (requests; values sent as str(value), Basic auth). See rpc.py.

Every answer carries the request lines the client sent (from urllib3's debug
log), so the test sees exactly what went over the wire.
"""

import logging
import sys

from goechargerv2.goecharger import GoeChargerApi

from rpc import serve

HOST = sys.argv[1]
BASE = f"http://{HOST}"
TOKEN = "conformance-token"


class RequestLog(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        # urllib3: '%s://%s:%s "%s %s %s" %s %s' -> keep 'GET /path HTTP/1.1 status'
        msg = record.getMessage()
        if '"' in msg:
            self.lines.append(msg.split('"', 1)[1].replace('"', ""))


REQUESTS = RequestLog()
_log = logging.getLogger("urllib3.connectionpool")
_log.setLevel(logging.DEBUG)
_log.addHandler(REQUESTS)
_log.propagate = False

api = GoeChargerApi(BASE, TOKEN)
api_wait = GoeChargerApi(BASE, TOKEN, wait=True)


def traced(fn):
    def run(*args):
        REQUESTS.lines = []
        result = fn(*args)
        return {"result": result, "requests": list(REQUESTS.lines)}

    return run


ops = {
    "request_status": traced(api.request_status),
    "set_force_charging": traced(api.set_force_charging),
    "set_max_current": traced(api.set_max_current),
    "set_max_current_wait": traced(api_wait.set_max_current),
    "set_phase": traced(api.set_phase),
    "set_access_control": traced(api.set_access_control),
    "set_transaction": traced(api.set_transaction),
    # the client's one write path, with a value of a type its setters never pass
    "set_parameter": traced(lambda k, v: api._GoeChargerApi__set_parameter(k, v)),
}

serve(ops, ["goechargerv2", "requests"])

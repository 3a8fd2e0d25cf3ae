"""The object a test gets: one charger's HTTP API v2 and control API.

Only the standard library (``urllib``): no dependency beyond pytest. Requests
go straight to 127.0.0.1, whatever proxy the environment names.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

from .errors import ApiError, SetRefused, SimRefused
from .process import ChargerProcess

#: Seconds a request may take before it counts as a hang.
REQUEST_TIMEOUT = 30.0

# no ProxyHandler from the environment: the charger is on loopback
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _number(value: float) -> str:
    """A number as the control API takes it (``3600``, ``1.5``)."""
    if isinstance(value, bool):
        raise TypeError("a number is required, not a bool")
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


class Charger:
    """A running virtual go-eCharger, as a test talks to it.

    ``url`` is ``http://127.0.0.1:PORT`` and ``host`` is ``127.0.0.1:PORT``
    (what integrations ask for). The API methods raise typed errors carrying
    the charger's own text: :class:`SetRefused`, :class:`SimRefused`,
    :class:`ApiError`.
    """

    def __init__(self, process: ChargerProcess, host: str, serial: Optional[str] = None) -> None:
        self.process = process
        self.host = host
        self.url = f"http://{host}"
        self._serial = serial

    # --- plumbing ---------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        params: Optional[List[Tuple[str, str]]] = None,
        timeout: float = REQUEST_TIMEOUT,
    ) -> Tuple[int, str]:
        """Sends one request, returns ``(status, body)`` whatever the status."""
        query = urllib.parse.urlencode(params or [], quote_via=urllib.parse.quote)
        target = self.url + path + ("?" + query if query else "")
        req = urllib.request.Request(target, method=method, data=b"" if method == "POST" else None)
        try:
            with _OPENER.open(req, timeout=timeout) as resp:
                return resp.status, resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")

    def _json(self, method: str, path: str, params: Optional[List[Tuple[str, str]]] = None) -> Any:
        status, body = self.request(method, path, params)
        if status != 200:
            raise ApiError(method, path, status, body)
        return json.loads(body)

    # --- HTTP API v2 --------------------------------------------------------

    def status(self, *keys: str) -> Dict[str, Any]:
        """``/api/status``, filtered to ``keys`` when given (in the
        charger's order). On firmware 60.3+ a key the firmware does not print
        makes it HTTP 400, raised as :class:`ApiError`."""
        params = [("filter", ",".join(keys))] if keys else None
        answer: Dict[str, Any] = self._json("GET", "/api/status", params)
        return answer

    def get(self, key: str) -> Any:
        """One key's value (``status(key)[key]``)."""
        return self.status(key)[key]

    def set(self, values: Optional[Mapping[str, Any]] = None, /, **kwargs: Any) -> Dict[str, Any]:
        """Writes keys through ``/api/set``; every value is JSON-encoded
        (``fna="garage"`` is sent as ``"garage"``, ``trx=None`` as ``null``).
        A mapping is accepted too, for keys that are no Python names.

        Returns the answer (``{"amp": True}``); raises :class:`SetRefused`
        with each refused key's text when the charger refuses any (HTTP 500).
        """
        items = dict(values or {})
        items.update(kwargs)
        if not items:
            raise ValueError("set() needs at least one key")
        params = [(k, json.dumps(v, separators=(",", ":"), ensure_ascii=False)) for k, v in items.items()]
        status, body = self.request("GET", "/api/set", params)
        if status == 500:
            try:
                answer = json.loads(body)
            except ValueError:
                raise ApiError("GET", "/api/set", status, body) from None
            raise SetRefused(answer)
        if status != 200:
            raise ApiError("GET", "/api/set", status, body)
        result: Dict[str, Any] = json.loads(body)
        return result

    @property
    def serial(self) -> str:
        """The charger's serial number (``sse``)."""
        if self._serial is None:
            self._serial = str(self.get("sse"))
        return self._serial

    # --- control API /sim/ ----------------------------------------------------

    def sim(self, action: str, *, timeout: float = REQUEST_TIMEOUT, **params: Any) -> Dict[str, Any]:
        """Any control API action (``POST /sim/<action>``) with query
        parameters; returns the new ``/sim/state``. Raises
        :class:`SimRefused` with the charger's ``error`` text."""
        query = [(k, _number(v) if isinstance(v, (int, float)) else str(v)) for k, v in params.items() if v is not None]
        status, body = self.request("POST", f"/sim/{action}", query, timeout)
        if status != 200:
            try:
                text = str(json.loads(body)["error"])
            except (ValueError, KeyError, TypeError):
                text = body
            raise SimRefused(action, status, text)
        state: Dict[str, Any] = json.loads(body)
        return state

    def state(self) -> Dict[str, Any]:
        """``/sim/state``: simulated time, car, SoC, power, grid, ``modelStatus``."""
        state: Dict[str, Any] = self._json("GET", "/sim/state")
        return state

    def plug(self, car: Optional[str] = None, soc: Optional[float] = None) -> Dict[str, Any]:
        """Plugs a car in (profile name, state of charge in %; both optional:
        the binary's default is ``ev-3p-11kw`` at 20 %)."""
        return self.sim("plug", car=car, soc=soc)

    def unplug(self) -> Dict[str, Any]:
        """Unplugs the car."""
        return self.sim("unplug")

    def advance(self, seconds: float) -> Dict[str, Any]:
        """Moves the manual clock on (the logic runs every simulated second).

        The answer comes when the span is simulated: a day takes well under
        a second, so the hang guard grows by one second per simulated hour."""
        return self.sim("advance", seconds=seconds, timeout=REQUEST_TIMEOUT + float(seconds) / 3600)

    def grid(
        self,
        pv: Optional[float] = None,
        house: Optional[float] = None,
        battery: Optional[float] = None,
    ) -> Dict[str, Any]:
        """Sets PV production, house consumption and a fixed home-battery
        power, in W; each optional."""
        return self.sim("grid", pv=pv, house=house, battery=battery)

    def fault(self, err: int) -> Dict[str, Any]:
        """Injects an ``err`` code (``0`` ends a condition)."""
        return self.sim("fault", err=err)

    def button(self) -> Dict[str, Any]:
        """Presses the charger's button."""
        return self.sim("button")

    def rfid(self, card: int) -> Dict[str, Any]:
        """Swipes the card learned in slot ``card`` (0-9)."""
        return self.sim("rfid", card=card)

    def temperature(self, celsius: float) -> Dict[str, Any]:
        """Sets the ambient temperature."""
        return self.sim("temperature", celsius=celsius)

    # --- logs -----------------------------------------------------------------

    def logs(self) -> Tuple[str, str]:
        """``(stdout, stderr)`` of the charger's process so far."""
        return self.process.stdout(), self.process.stderr()

    def __repr__(self) -> str:
        return f"<Charger {self.url} serial={self._serial}>"


class Fleet:
    """N chargers in one ``goe-charger`` process on one simulated clock.

    Each member has its own port and serial; :meth:`advance` on the fleet
    (or any member) moves every charger, second by second.
    """

    def __init__(self, process: ChargerProcess) -> None:
        self.process = process
        self.chargers: List[Charger] = [
            Charger(process, host, serial) for serial, host in process.addresses.items()
        ]

    def __len__(self) -> int:
        return len(self.chargers)

    def __iter__(self) -> Iterator[Charger]:
        return iter(self.chargers)

    def __getitem__(self, index: int) -> Charger:
        return self.chargers[index]

    def by_serial(self, serial: str) -> Charger:
        """The member with this serial (``KeyError`` when none)."""
        for c in self.chargers:
            if c.serial == serial:
                return c
        raise KeyError(serial)

    @property
    def serials(self) -> List[str]:
        """Every member's serial, in start order."""
        return [c.serial for c in self.chargers]

    def advance(self, seconds: float) -> Dict[str, Any]:
        """Moves the fleet's shared clock on."""
        return self.chargers[0].advance(seconds)

    def info(self) -> Dict[str, Any]:
        """``/sim/fleet``: every member's serial, address and load group."""
        info: Dict[str, Any] = self.chargers[0]._json("GET", "/sim/fleet")
        return info

    def __repr__(self) -> str:
        return f"<Fleet of {len(self.chargers)}: {self.serials}>"

"""The errors the fixtures raise: one type per thing that can go wrong.

Every error carries what the charger (or its process) said, so a failing test
shows the charger's own text instead of a bare HTTP status.
"""

from __future__ import annotations

from typing import Mapping, Optional


class GoeChargerError(Exception):
    """Base class of every error of pytest-goe-charger."""


class BinaryNotFound(GoeChargerError):
    """No ``goe-charger`` binary: not in ``--goe-charger``, the ini option,
    ``GOE_CHARGER`` nor on ``PATH`` (or the named file is not executable)."""


class StartError(GoeChargerError):
    """The process exited, or printed something else, before its listening
    line(s); holds its exit status and everything it printed."""

    def __init__(
        self, reason: str, *, returncode: Optional[int], stdout: str, stderr: str
    ) -> None:
        self.reason = reason
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        super().__init__(
            f"goe-charger did not start: {reason} (exit status {returncode})\n"
            f"--- stdout ---\n{stdout}--- stderr ---\n{stderr}"
        )


class ProcessExited(GoeChargerError):
    """The charger process ended by itself while a test was using it (a crash
    or a refused start-up is a finding, never hidden by the teardown)."""


class ApiError(GoeChargerError):
    """An answer of the HTTP API that is not the expected one (for example
    HTTP 400 on firmware 60.3+ for a filter naming a key it does not print)."""

    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.body = body
        super().__init__(f"{method} {path}: HTTP {status}: {body}")


class SetRefused(GoeChargerError):
    """``/api/set`` refused at least one key (HTTP 500 with the charger's
    per-key texts). ``errors`` maps each refused key to the charger's text;
    ``answer`` is the whole answer (accepted keys map to ``True``)."""

    def __init__(self, answer: Mapping[str, object]) -> None:
        self.answer = dict(answer)
        self.errors = {k: str(v) for k, v in answer.items() if v is not True}
        super().__init__("; ".join(self.errors.values()) or str(self.answer))


class SimRefused(GoeChargerError):
    """The control API (``/sim/...``) refused an action; ``text`` is the
    charger's ``{"error": "..."}`` message."""

    def __init__(self, action: str, status: int, text: str) -> None:
        self.action = action
        self.status = status
        self.text = text
        super().__init__(f"/sim/{action}: HTTP {status}: {text}")

"""One ``goe-charger`` process: start it, wait for its listening line(s),
keep its output in files, stop it (SIGTERM, then SIGKILL)."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from .errors import ProcessExited, StartError
from .options import ChargerOptions

_SINGLE = re.compile(r"^goe-charger listening on http://(127\.0\.0\.1:[0-9]+)$")
_FLEET_HEAD = re.compile(r"^goe-charger fleet of ([0-9]+) chargers?$")
_FLEET_MEMBER = re.compile(r"^goe-charger ([A-Za-z0-9]+) listening on http://(\S+)$")


class ChargerProcess:
    """A running ``goe-charger`` with its data directory and log files.

    ``addresses`` maps each charger's serial (``None`` for a single charger,
    whose serial is read from its status) to ``host:port``. The process'
    stdout and stderr go to ``stdout.log``/``stderr.log`` in ``workdir``, so
    nothing can block on a full pipe and the logs outlive the process.
    """

    def __init__(
        self,
        binary: Path,
        options: ChargerOptions,
        workdir: Path,
        *,
        chargers: Optional[int] = None,
        fleet_file: Optional[Path] = None,
    ) -> None:
        self.binary = binary
        self.options = options
        self.workdir = workdir
        self.data_dir = workdir / "data"
        self.stdout_path = workdir / "stdout.log"
        self.stderr_path = workdir / "stderr.log"
        self.fleet = chargers is not None or fleet_file is not None
        self.returncode: Optional[int] = None
        self.stopped = False
        args: List[str] = [
            str(binary),
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            str(self.data_dir),
        ]
        if chargers is not None:
            args += ["--chargers", str(chargers)]
        if fleet_file is not None:
            args += ["--fleet", str(fleet_file)]
        args += options.args()
        self.args = args
        workdir.mkdir(parents=True, exist_ok=True)
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self._popen = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                cwd=workdir,
                start_new_session=True,
            )
        self.addresses: Dict[Optional[str], str] = {}
        try:
            self._wait_listening()
        except BaseException:
            self._terminate()
            raise

    @property
    def pid(self) -> int:
        """The process id."""
        return self._popen.pid

    def stdout(self) -> str:
        """Everything the process printed on stdout so far."""
        return self.stdout_path.read_text(errors="replace")

    def stderr(self) -> str:
        """Everything the process printed on stderr so far (its log)."""
        return self.stderr_path.read_text(errors="replace")

    def running(self) -> bool:
        """Whether the process is still alive."""
        return self._popen.poll() is None

    def _lines(self) -> List[str]:
        text = self.stdout()
        complete = text.split("\n")[:-1]  # a line counts once its newline is there
        return complete

    def _start_error(self, reason: str) -> StartError:
        self._terminate()
        return StartError(
            reason,
            returncode=self._popen.returncode,
            stdout=self.stdout(),
            stderr=self.stderr(),
        )

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + self.options.start_timeout
        while True:
            lines = self._lines()
            if self._parse(lines):
                return
            if self._popen.poll() is not None:
                # it may have printed its last line while exiting
                if self._parse(self._lines()):
                    return
                raise self._start_error("the process exited before it listened")
            if time.monotonic() > deadline:
                raise self._start_error(
                    f"no listening line within {self.options.start_timeout:g} s"
                )
            time.sleep(0.01)

    def _parse(self, lines: Sequence[str]) -> bool:
        """True once every listening line is there; raises on anything else."""
        if not lines:
            return False
        if not self.fleet:
            m = _SINGLE.match(lines[0])
            if not m:
                raise self._start_error(
                    f"the first stdout line is not the listening line: {lines[0]!r}"
                )
            self.addresses = {None: m.group(1)}
            return True
        head = _FLEET_HEAD.match(lines[0])
        if not head:
            raise self._start_error(f"the first stdout line is not a fleet's: {lines[0]!r}")
        count = int(head.group(1))
        members = lines[1 : 1 + count]
        for line in members:
            if not _FLEET_MEMBER.match(line):
                raise self._start_error(f"not a fleet member's listening line: {line!r}")
        if len(members) < count:
            return False
        self.addresses = {}
        for line in members:
            m = _FLEET_MEMBER.match(line)
            assert m is not None
            self.addresses[m.group(1)] = m.group(2)
        return True

    def _terminate(self) -> None:
        if self._popen.poll() is None:
            try:
                self._popen.send_signal(signal.SIGTERM)
                self._popen.wait(timeout=self.options.stop_timeout)
            except subprocess.TimeoutExpired:
                self._popen.kill()
                self._popen.wait()
        self.returncode = self._popen.returncode

    def stop(self) -> None:
        """Stops the process: SIGTERM, then SIGKILL after ``stop_timeout``.

        Raises :class:`ProcessExited` when it had already ended by itself
        (a crash must not go unnoticed); stopping twice is a no-op.
        """
        if self.stopped:
            return
        self.stopped = True
        died = self._popen.poll()
        self._terminate()
        if died is not None:
            raise ProcessExited(
                f"goe-charger (pid {self.pid}) exited by itself with status {died} "
                f"while the test was using it\n--- stderr ---\n{self.stderr()}"
            )

    def describe(self) -> str:
        """One line naming the process, for log sections."""
        return f"pid {self.pid}, data {self.data_dir}, `{' '.join(self.args)}`"

    def __repr__(self) -> str:
        return f"<ChargerProcess pid={self.pid} {self.addresses}>"


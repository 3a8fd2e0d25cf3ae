"""Shared helpers of the plugin's own suite (the plugin itself is loaded
through its pytest11 entry point, as in any project that installs it)."""

import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[str]:
    """A mosquitto broker on a free loopback port (GOE_MOSQUITTO, as the
    workspace's MQTT tests use); its URL. Missing is a failure, not a skip."""
    binary = os.environ.get("GOE_MOSQUITTO")
    assert binary, "GOE_MOSQUITTO is unset: scripts/test.sh exports it (Debian: mosquitto)"
    port = _free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n")
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, "mosquitto exited at start"
                assert time.monotonic() < deadline, "mosquitto did not listen within 30 s"
                time.sleep(0.05)
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)

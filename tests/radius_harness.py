"""Running `cautiva radius` as a real process and talking to it with `radclient`."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CAUTIVA = str(Path(sys.executable).with_name("cautiva"))
_RECEIVED = re.compile(r"^Received (\S+) Id (\d+)")
_ATTRIBUTE = re.compile(r"^\t(\S+) = (.*)$")


def free_udp_port() -> int:
    """Return a UDP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def require_radclient() -> str:
    """Return radclient's path; fail (never skip) when it is missing."""
    path = shutil.which("radclient")
    if path is None:
        pytest.fail("radclient is missing: install Debian's freeradius-utils (make system-deps)")
    return path


@dataclass
class RadclientResult:
    """What radclient printed: the reply code (None when no reply) and reply attributes."""

    code: str | None
    attributes: dict[str, list[str]] = field(default_factory=dict)
    output: str = ""
    returncode: int = 0

    def one(self, name: str) -> str:
        """Return the single value of attribute `name`."""
        values = self.attributes.get(name, [])
        assert len(values) == 1, f"{name}: {values!r} in\n{self.output}"
        return values[0]

    @property
    def attribute_order(self) -> list[str]:
        """Reply attribute names in the order radclient printed them."""
        return list(self.attributes)


def radclient(
    address: tuple[str, int],
    command: str,
    secret: str,
    attributes: str,
    *,
    retries: int = 1,
    timeout: float = 2.0,
    extra: tuple[str, ...] = (),
) -> RadclientResult:
    """Send one request described in radclient's text format and parse the reply."""
    binary = require_radclient()
    completed = subprocess.run(
        [
            binary,
            "-x",
            "-r",
            str(retries),
            "-t",
            str(timeout),
            *extra,
            f"{address[0]}:{address[1]}",
            command,
            secret,
        ],
        input=attributes,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    result = RadclientResult(
        code=None, output=completed.stdout + completed.stderr, returncode=completed.returncode
    )
    receiving = False
    for line in completed.stdout.splitlines():
        match = _RECEIVED.match(line)
        if match:
            result.code = match.group(1)
            receiving = True
            continue
        if line.startswith("Sent "):
            receiving = False
            continue
        attribute = _ATTRIBUTE.match(line)
        if receiving and attribute:
            value = attribute.group(2).strip().strip('"')
            result.attributes.setdefault(attribute.group(1), []).append(value)
    return result


class RadiusProcess:
    """`cautiva radius` on free ports, with its log kept for assertions."""

    def __init__(
        self,
        env: Mapping[str, str],
        log_path: Path,
        command: tuple[str, ...] = ("radius",),
        ready: str = "listening on",
    ) -> None:
        self.command = command
        self.ready = ready
        self.auth_port = free_udp_port()
        self.acct_port = free_udp_port()
        self.env = {
            **os.environ,
            **env,
            "CAUTIVA_RADIUS_HOST": "127.0.0.1",
            "CAUTIVA_RADIUS_AUTH_PORT": str(self.auth_port),
            "CAUTIVA_RADIUS_ACCT_PORT": str(self.acct_port),
        }
        self.log_path = log_path
        self.lines: list[str] = []
        self._ready = threading.Event()
        self.process: subprocess.Popen[str] | None = None

    @property
    def auth(self) -> tuple[str, int]:
        """The auth socket address."""
        return ("127.0.0.1", self.auth_port)

    @property
    def acct(self) -> tuple[str, int]:
        """The accounting socket address."""
        return ("127.0.0.1", self.acct_port)

    def start(self, timeout: float = 30.0) -> RadiusProcess:
        """Start the server and wait until it listens."""
        self.process = subprocess.Popen(
            [CAUTIVA, *self.command, "--log-level", "INFO"],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(timeout):
            self.stop()
            pytest.fail("cautiva radius did not start:\n" + "".join(self.lines[-40:]))
        return self

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        with self.log_path.open("a") as log:
            for line in self.process.stdout:
                self.lines.append(line)
                log.write(line)
                log.flush()
                if self.ready in line:
                    self._ready.set()

    def log_text(self) -> str:
        """Everything the server logged so far."""
        return "".join(self.lines)

    def wait_for_log(self, needle: str, timeout: float = 10.0) -> str:
        """Wait until a log line contains `needle` and return it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if needle in line:
                    return line
            time.sleep(0.05)
        raise AssertionError(f"no log line with {needle!r} in:\n{self.log_text()[-4000:]}")

    def stop(self) -> int | None:
        """Stop the server with SIGTERM and return its exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        return self.process.returncode

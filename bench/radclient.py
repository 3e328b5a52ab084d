"""The cross-check with FreeRADIUS's radclient, run the way the reference figures were taken."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

_COUNT = re.compile(r"^\s*(Accepted|Rejected|Lost)\s*:\s*(\d+)", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class RadclientResult:
    """What one radclient run did and how long it took (wall clock, start-up included)."""

    kind: str
    requests: int
    seconds: float
    accepted: int
    rejected: int
    lost: int

    @property
    def rate(self) -> float:
        """Answered requests per second."""
        answered = self.accepted + self.rejected
        return answered / self.seconds if self.seconds > 0 else 0.0


def available() -> bool:
    """Return True when radclient is on the PATH."""
    return shutil.which("radclient") is not None


def run_radclient(
    kind: str,
    request_file: Path,
    requests_in_file: int,
    port: int,
    secret: str,
    *,
    repeat: int,
    parallel: int = 64,
    timeout: float = 180.0,
) -> RadclientResult:
    """Run `radclient -q -c REPEAT -p PARALLEL -s -f FILE 127.0.0.1:PORT KIND SECRET`."""
    command = [
        "radclient",
        "-q",
        "-c",
        str(repeat),
        "-p",
        str(parallel),
        "-s",
        "-f",
        str(request_file),
        f"127.0.0.1:{port}",
        kind,
        secret,
    ]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    seconds = time.perf_counter() - started
    counts = {name: int(value) for name, value in _COUNT.findall(done.stdout + done.stderr)}
    if not counts:
        tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
        raise RuntimeError(f"radclient exited {done.returncode}: " + " | ".join(tail))
    return RadclientResult(
        kind=kind,
        requests=requests_in_file * repeat,
        seconds=seconds,
        accepted=counts.get("Accepted", 0),
        rejected=counts.get("Rejected", 0),
        lost=counts.get("Lost", 0),
    )

"""Start a server in the foreground, wait until it is ready, stop it by its PID."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from bench import procstat

_POLL = 0.05


class ServerError(RuntimeError):
    """A server did not start or died; the message carries its log tail."""


def log_tail(path: Path, lines: int = 25) -> str:
    """Return the last `lines` lines of a log file."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def stop_stale(pid_path: Path, marker: str) -> None:
    """Stop a server an earlier bench run left behind (checked by `marker`, never a reused PID)."""
    try:
        pid = int(pid_path.read_text().strip())
    except (OSError, ValueError):
        return
    ours = marker in procstat.command_line(pid) or marker in procstat.environment_text(pid)
    if procstat.process_alive(pid) and ours:
        print(f"  stopping a server left by an earlier run (PID {pid})")
        _signal_and_wait(pid, timeout=10)
    pid_path.unlink(missing_ok=True)


def _signal_and_wait(pid: int, timeout: float) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and procstat.process_alive(pid):
        time.sleep(_POLL)
    if procstat.process_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def running_server(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None,
    log_path: Path,
    pid_path: Path,
    ready_marker: str,
    stale_marker: str,
    ready_timeout: float = 30.0,
    stop_timeout: float = 10.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` with stdout and stderr in `log_path`; yield once the log shows the marker."""
    stop_stale(pid_path, stale_marker)
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            start_new_session=True,
        )
    pid_path.write_text(f"{proc.pid}\n")
    try:
        _wait_ready(proc, log_path, ready_marker, ready_timeout)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(stop_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(stop_timeout)
        pid_path.unlink(missing_ok=True)


def _wait_ready(proc: subprocess.Popen[bytes], log_path: Path, marker: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    needle = marker.encode()
    while time.monotonic() < deadline:
        if needle in log_path.read_bytes():
            return
        if proc.poll() is not None:
            raise ServerError(
                f"exited with code {proc.returncode} before it was ready; log tail:\n"
                + log_tail(log_path)
            )
        time.sleep(_POLL)
    raise ServerError(
        f"not ready after {timeout:.0f} s (no {marker!r} in its log); log tail:\n"
        + log_tail(log_path)
    )

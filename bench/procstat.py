"""CPU time and peak memory of processes, read from /proc."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# A client backend's title: "postgres: [cluster: ]user database host(port) state".
_BACKEND = re.compile(r"(\S+) (\S+) (?:\[local\]|\S+\(\d+\))(?: |$)")


@dataclass(frozen=True, slots=True)
class _Stat:
    pid: int
    ppid: int
    comm: str
    ticks: int
    child_ticks: int


def _read_stat(pid: int) -> _Stat | None:
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    head, _, tail = raw.rpartition(")")
    comm = head.partition("(")[2]
    fields = tail.split()
    # fields[0] is field 3 (state): utime, stime, cutime, cstime are fields 14-17.
    return _Stat(
        pid=pid,
        ppid=int(fields[1]),
        comm=comm,
        ticks=int(fields[11]) + int(fields[12]),
        child_ticks=int(fields[13]) + int(fields[14]),
    )


def _all_stats() -> list[_Stat]:
    stats = []
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            stat = _read_stat(int(entry.name))
            if stat is not None:
                stats.append(stat)
    return stats


def _descendants(root: int, stats: list[_Stat]) -> list[_Stat]:
    children: dict[int, list[_Stat]] = {}
    for stat in stats:
        children.setdefault(stat.ppid, []).append(stat)
    found: list[_Stat] = []
    queue = [root]
    for _ in range(100_000):
        if not queue:
            break
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child.pid)
    return found


def tree_cpu_seconds(pid: int) -> float:
    """Return the CPU seconds (user + system) of `pid`, its reaped children and live descendants."""
    own = _read_stat(pid)
    if own is None:
        return 0.0
    ticks = own.ticks + own.child_ticks
    ticks += sum(s.ticks + s.child_ticks for s in _descendants(pid, _all_stats()))
    return ticks / CLOCK_TICKS


def _title(pid: int) -> str:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except (OSError, UnicodeDecodeError):
        return ""


def postgres_cpu_seconds(database: str | None) -> float:
    """Return the CPU seconds of PostgreSQL's processes, counting only `database`'s backends.

    Auxiliary processes (WAL writer, checkpointer, autovacuum...) are always counted; client
    backends of other databases are not, so other work on the same cluster is left out.
    """
    ticks = 0
    for stat in _all_stats():
        if stat.comm != "postgres" and not stat.comm.startswith("postgres:"):
            continue
        match = _BACKEND.search(_title(stat.pid))
        if match is not None and database is not None and match.group(2) != database:
            continue
        ticks += stat.ticks
    return ticks / CLOCK_TICKS


def peak_rss_kib(pid: int) -> int | None:
    """Return VmHWM of `pid` plus that of its live descendants, in KiB."""
    total = 0
    pids = [pid, *(s.pid for s in _descendants(pid, _all_stats()))]
    for one in pids:
        try:
            status = (PROC / str(one) / "status").read_text()
        except OSError:
            if one == pid:
                return None
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
                break
    return total


def process_alive(pid: int) -> bool:
    """Return True while `pid` exists and is not a zombie."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return False
    return raw.rpartition(")")[2].split()[0] != "Z"


def environment_text(pid: int) -> str:
    """Return the environment `pid` started with, one VAR=value a line ('' if unreadable)."""
    try:
        raw = (PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b"\n").decode(errors="replace")


def command_line(pid: int) -> str:
    """Return the command line of `pid` with spaces between arguments ('' if gone)."""
    return _title(pid)


def system_busy_seconds() -> float:
    """Return the CPU seconds all CPUs spent busy since boot (user, nice, system, irq, softirq)."""
    try:
        fields = (PROC / "stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in fields[1:8])
    return (user + nice + system + irq + softirq) / CLOCK_TICKS

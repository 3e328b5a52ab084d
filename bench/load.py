"""A small closed-loop UDP load generator for RADIUS that runs in a process of its own.

Each in-flight slot owns one connected UDP socket and one outstanding request; a reply (or a
timeout) frees the slot, which sends its next request at once. Requests are pre-encoded
templates patched per send (Identifier, authenticator, signature), so the generator's own CPU
per request stays a few microseconds.
"""

from __future__ import annotations

import math
import resource
import select
import socket
import time
from dataclasses import dataclass

from bench import procstat
from bench.child import run_in_child
from bench.wire import (
    ACCESS_ACCEPT,
    ACCESS_REJECT,
    ACCOUNTING_RESPONSE,
    Template,
    finish_request,
    reply_is_valid,
)

_POLL_SECONDS = 0.05
_RECV_BATCH = 16
_MAX_ITERATIONS = 100_000_000
_NO_REPLY_ABORT_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class LoadSpec:
    """What to send, where, how many at once and for how long."""

    host: str
    port: int
    secret: bytes
    groups: tuple[tuple[Template, ...], ...]
    in_flight: int
    warmup: float
    seconds: float
    timeout: float
    max_requests: int
    server_pid: int | None = None
    pg_database: str | None = None
    # Accounting sessions get fresh Acct-Session-Ids: each run starts its cycles here.
    cycle_base: int = 0


@dataclass(frozen=True, slots=True)
class LoadResult:
    """Figures of one measured window."""

    in_flight: int
    window: float
    completed: int
    accepted: int
    rejected: int
    lost: int
    invalid: int
    errors: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    server_cpu: float | None
    pg_cpu: float | None
    generator_cpu: float

    @property
    def throughput(self) -> float:
        """Completed requests per second."""
        return self.completed / self.window if self.window > 0 else 0.0

    def per_request_us(self, seconds: float | None) -> float | None:
        """Return `seconds` of CPU spread over the completed requests, in microseconds."""
        if seconds is None or self.completed == 0:
            return None
        return seconds * 1e6 / self.completed


class LoadError(RuntimeError):
    """The load generator could not measure (no replies, crashed, timed out)."""


class _Slot:
    __slots__ = (
        "authenticator",
        "busy",
        "cursor",
        "cycle",
        "ident",
        "sent_at",
        "sock",
        "templates",
    )

    def __init__(
        self, sock: socket.socket, templates: tuple[Template, ...], first_ident: int, cycle: int
    ):
        self.sock = sock
        self.templates = templates
        self.cursor = 0
        self.cycle = cycle
        self.ident = first_ident & 0xFF
        self.busy = False
        self.sent_at = 0
        self.authenticator = b""


def _slot_templates(
    groups: tuple[tuple[Template, ...], ...], index: int, count: int
) -> tuple[Template, ...]:
    return tuple(t for group in groups[index::count] for t in group)


def _percentile(sorted_values: list[int], q: float) -> float:
    if not sorted_values:
        return math.nan
    rank = max(math.ceil(q * len(sorted_values)) - 1, 0)
    return sorted_values[min(rank, len(sorted_values) - 1)] / 1e6


class _Probe:
    """CPU counters of the server and PostgreSQL at one instant."""

    def __init__(self, spec: LoadSpec) -> None:
        self.server = (
            procstat.tree_cpu_seconds(spec.server_pid) if spec.server_pid is not None else None
        )
        self.pg = procstat.postgres_cpu_seconds(spec.pg_database)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        self.generator = usage.ru_utime + usage.ru_stime


def run_load(spec: LoadSpec) -> LoadResult:
    """Run one closed-loop measurement in this process and return its figures."""
    if spec.in_flight < 1 or len(spec.groups) < spec.in_flight:
        raise LoadError(f"need at least {spec.in_flight} request groups, have {len(spec.groups)}")
    secret = spec.secret
    poller = select.epoll()
    slots: dict[int, _Slot] = {}
    try:
        for index in range(spec.in_flight):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setblocking(False)
            sock.connect((spec.host, spec.port))
            templates = _slot_templates(spec.groups, index, spec.in_flight)
            slot = _Slot(sock, templates, index * 37, spec.cycle_base)
            slots[sock.fileno()] = slot
            poller.register(sock.fileno(), select.EPOLLIN)
        return _loop(spec, secret, poller, slots)
    finally:
        poller.close()
        for slot in slots.values():
            slot.sock.close()


def _loop(
    spec: LoadSpec, secret: bytes, poller: select.epoll, slots: dict[int, _Slot]
) -> LoadResult:
    clock = time.perf_counter_ns
    timeout_ns = int(spec.timeout * 1e9)
    start = clock()
    window_start = start + int(spec.warmup * 1e9)
    window_end = window_start + int(spec.seconds * 1e9)
    hard_end = window_end + timeout_ns + 1_000_000_000
    latencies: list[int] = []
    accepted = rejected = lost = invalid = errors = sent = replies = 0
    probe_start: _Probe | None = None
    probe_end: _Probe | None = None
    measuring = False
    stopping = False
    last_sweep = start

    def send(slot: _Slot) -> None:
        nonlocal sent, errors
        tpl = slot.templates[slot.cursor]
        slot.cursor += 1
        if slot.cursor == len(slot.templates):
            slot.cursor = 0
            slot.cycle += 1
        slot.ident = (slot.ident + 1) & 0xFF
        datagram, slot.authenticator = finish_request(tpl, slot.ident, slot.cycle, secret)
        slot.busy = True
        slot.sent_at = clock()
        sent += 1
        try:
            slot.sock.send(datagram)
        except OSError:
            errors += 1

    for slot in slots.values():
        send(slot)
    for _ in range(_MAX_ITERATIONS):
        now = clock()
        if probe_start is None and now >= window_start:
            probe_start = _Probe(spec)
            window_start = clock()
            window_end = window_start + int(spec.seconds * 1e9)
            hard_end = window_end + timeout_ns + 1_000_000_000
            measuring = True
        if not stopping and (now >= window_end or sent >= spec.max_requests):
            window_end = now
            if probe_start is not None:
                probe_end = _Probe(spec)
            measuring = False
            stopping = True
        if stopping and (now >= hard_end or not any(s.busy for s in slots.values())):
            break
        if replies == 0 and now - start > _NO_REPLY_ABORT_SECONDS * 1e9 + timeout_ns:
            raise LoadError(f"no reply from {spec.host}:{spec.port}")
        for fd, _event in poller.poll(_POLL_SECONDS):
            slot = slots[fd]
            for _ in range(_RECV_BATCH):
                try:
                    reply = slot.sock.recv(4096)
                except BlockingIOError:
                    break
                except OSError:
                    errors += 1
                    break
                received = clock()
                if not slot.busy or len(reply) < 20 or reply[1] != slot.ident:
                    continue
                replies += 1
                slot.busy = False
                if not reply_is_valid(reply, slot.authenticator, secret):
                    invalid += measuring
                elif measuring:
                    latencies.append(received - slot.sent_at)
                    code = reply[0]
                    if code in (ACCESS_ACCEPT, ACCOUNTING_RESPONSE):
                        accepted += 1
                    elif code == ACCESS_REJECT:
                        rejected += 1
                    else:
                        invalid += 1
                if not stopping:
                    send(slot)
        now = clock()
        if now - last_sweep > _POLL_SECONDS * 1e9:
            last_sweep = now
            for slot in slots.values():
                if slot.busy and now - slot.sent_at > timeout_ns:
                    slot.busy = False
                    lost += measuring
                    if not stopping:
                        send(slot)
    if probe_start is None or probe_end is None:
        raise LoadError("the measuring window never opened")
    latencies.sort()
    completed = len(latencies)
    return LoadResult(
        in_flight=spec.in_flight,
        window=(window_end - window_start) / 1e9,
        completed=completed,
        accepted=accepted,
        rejected=rejected,
        lost=lost,
        invalid=invalid,
        errors=errors,
        p50_ms=_percentile(latencies, 0.50),
        p99_ms=_percentile(latencies, 0.99),
        mean_ms=(sum(latencies) / completed / 1e6) if completed else math.nan,
        max_ms=latencies[-1] / 1e6 if latencies else math.nan,
        server_cpu=_delta(probe_start.server, probe_end.server),
        pg_cpu=probe_end.pg - probe_start.pg,
        generator_cpu=probe_end.generator - probe_start.generator,
    )


def _delta(before: float | None, after: float | None) -> float | None:
    if before is None or after is None:
        return None
    return after - before


def run_load_in_process(spec: LoadSpec) -> LoadResult:
    """Run `run_load` in a fresh process so its CPU is not charged to anything measured."""
    return run_in_child(
        run_load,
        spec,
        result_type=LoadResult,
        name="bench-load",
        budget=15.0 + spec.warmup + spec.seconds + spec.timeout + _NO_REPLY_ABORT_SECONDS,
        error=LoadError,
    )

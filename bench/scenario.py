"""The measurements taken for each server: first logins, auth and acct runs, radclient."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bench import procstat, radclient
from bench.load import LoadError, LoadResult, LoadSpec, run_load_in_process
from bench.packets import (
    BenchUser,
    acct_groups,
    auth_groups,
    write_radclient_acct,
    write_radclient_auth,
)
from bench.postgres import Postgres, run_script
from bench.prime import PrimeResult, prime_logins
from bench.radclient import RadclientResult
from bench.settings import BenchConfig
from bench.wire import Template

HOST = "127.0.0.1"
KINDS = ("auth", "acct")
# Each run's accounting sessions start at a new cycle, so no Acct-Session-Id is ever reused.
_CYCLES_PER_RUN = 1 << 24
_runs = itertools.count(1)


class BenchError(RuntimeError):
    """A server could not be measured at all."""


@dataclass(frozen=True, slots=True)
class Target:
    """A running server and what the bench needs to talk to it."""

    name: str
    version: str
    pid: int
    auth_port: int
    acct_port: int
    secret: str
    nas_id: str
    pg_database: str
    users: Sequence[BenchUser]
    work_dir: Path


@dataclass(slots=True)
class ServerReport:
    """Everything measured for one server."""

    name: str
    version: str = ""
    runs: dict[tuple[str, int], LoadResult] = field(default_factory=dict)
    radclient: dict[str, RadclientResult] = field(default_factory=dict)
    peak_rss_kib: int | None = None
    prime: PrimeResult | None = None
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _throughput(result: LoadResult) -> float:
    return result.throughput


def _say(text: str) -> None:
    print(text, flush=True)


def _median_run(spec: LoadSpec, rounds: int) -> LoadResult:
    results = []
    for _ in range(rounds):
        # Production PostgreSQL runs autovacuum; this cluster may not. Vacuum both servers'
        # databases before every run so neither is measured on the other's dead tuples.
        if spec.pg_database:
            run_script(Postgres.from_env(), spec.pg_database, "VACUUM ANALYZE")
        results.append(run_load_in_process(replace(spec, cycle_base=next(_runs) * _CYCLES_PER_RUN)))
    results.sort(key=_throughput)
    return results[len(results) // 2]


def _describe(kind: str, result: LoadResult) -> str:
    extra = []
    if result.lost:
        extra.append(f"{result.lost} lost")
    if result.rejected:
        extra.append(f"{result.rejected} rejected")
    if result.invalid:
        extra.append(f"{result.invalid} invalid")
    tail = f" ({', '.join(extra)})" if extra else ""
    return (
        f"  {kind} {result.in_flight:>3} in flight: {result.throughput:9,.0f} req/s, "
        f"p50 {result.p50_ms:7.2f} ms, p99 {result.p99_ms:7.2f} ms{tail}"
    )


def _measure_kind(
    config: BenchConfig,
    target: Target,
    kind: str,
    groups: tuple[tuple[Template, ...], ...],
    report: ServerReport,
) -> None:
    port = target.auth_port if kind == "auth" else target.acct_port
    for in_flight in config.concurrency:
        spec = LoadSpec(
            host=HOST,
            port=port,
            secret=target.secret.encode(),
            groups=groups,
            in_flight=in_flight,
            warmup=config.warmup,
            seconds=config.seconds,
            timeout=config.timeout,
            max_requests=config.max_requests,
            server_pid=target.pid,
            pg_database=target.pg_database,
        )
        try:
            result = _median_run(spec, config.rounds)
        except LoadError as exc:
            report.errors.append(f"{kind} at {in_flight} in flight: {exc}")
            _say(f"  {kind} {in_flight:>3} in flight: FAILED: {exc}")
            continue
        report.runs[(kind, in_flight)] = result
        _say(_describe(kind, result))
        where = f"{kind} at {in_flight} in flight"
        if result.invalid:
            report.errors.append(f"{where}: {result.invalid} invalid or unexpected replies")
        if result.rejected or result.lost:
            report.notes.append(f"{where}: {result.rejected} rejected, {result.lost} lost")
        if not procstat.process_alive(target.pid):
            raise BenchError(f"{target.name} died during the {kind} run")


def _radclient(config: BenchConfig, target: Target, kind: str, report: ServerReport) -> None:
    if config.radclient_requests <= 0:
        return
    if not radclient.available():
        report.notes.append("radclient not found: cross-check skipped")
        return
    path = target.work_dir / f"radclient-{kind}.txt"
    if kind == "auth":
        write_radclient_auth(path, target.nas_id, target.users)
        per_file = len(target.users)
    else:
        write_radclient_acct(path, target.nas_id, target.users)
        per_file = 3 * len(target.users)
    repeat = max(1, round(config.radclient_requests / per_file))
    port = target.auth_port if kind == "auth" else target.acct_port
    try:
        result = radclient.run_radclient(kind, path, per_file, port, target.secret, repeat=repeat)
    except (RuntimeError, OSError) as exc:
        report.notes.append(f"radclient {kind} failed: {exc}")
        _say(f"  radclient {kind}: FAILED: {exc}")
        return
    report.radclient[kind] = result
    _say(
        f"  radclient {kind} -p 64: {result.rate:9,.0f} req/s "
        f"({result.requests} requests in {result.seconds:.1f} s, {result.lost} lost, "
        f"{result.rejected} rejected)"
    )


def measure(config: BenchConfig, target: Target, dictionary: Any) -> ServerReport:
    """Measure one running server: auth then acct, each at every concurrency, plus radclient."""
    report = ServerReport(name=target.name, version=target.version)
    secret = target.secret.encode()
    auth = auth_groups(dictionary, secret, target.nas_id, target.users)
    prime = prime_logins(
        HOST, target.auth_port, secret, [group[0] for group in auth], timeout=config.timeout
    )
    report.prime = prime
    _say(
        f"  first logins: {prime.accepted} accepted, {prime.rejected} rejected, "
        f"{prime.lost} lost in {prime.seconds:.1f} s"
    )
    if prime.accepted == 0:
        raise BenchError(f"no bench user could log in: {prime.first_reject or 'no replies'}")
    if prime.rejected or prime.lost:
        report.notes.append(f"first logins: {prime.rejected} rejected ({prime.first_reject})")
    _measure_kind(config, target, "auth", auth, report)
    _radclient(config, target, "auth", report)
    acct = acct_groups(dictionary, secret, target.nas_id, target.users, prime.classes)
    _measure_kind(config, target, "acct", acct, report)
    _radclient(config, target, "acct", report)
    report.peak_rss_kib = procstat.peak_rss_kib(target.pid)
    return report

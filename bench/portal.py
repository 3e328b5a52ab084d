"""The splash portal's side: its own database and point, `cautiva portal`, the three loads.

The portal runs as in production: `cautiva portal`, one process, uvicorn on uvloop with its
access log, on PostgreSQL. The rate limits are switched off (every request comes from
127.0.0.1 and one point); the double-submission window keeps its default, and every
submission has its own email and MAC so none is collapsed.
"""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path

from bench import cautiva_server, postgres, procstat
from bench.cautiva_server import CautivaError, cli, executable, parse_json
from bench.portal_load import (
    KINDS,
    PageSize,
    PortalLoadError,
    PortalRun,
    PortalSpec,
    page_sizes,
    run_load_in_process,
    run_sync,
)
from bench.postgres import Postgres
from bench.process import running_server
from bench.settings import BenchConfig

DATABASE = "cautiva_bench_portal"
NAS_ID = "bench-portal"
HOST = "127.0.0.1"
READY = "Uvicorn running on"
REQUEST_TIMEOUT = 10.0
"""Seconds before an HTTP request counts as failed (a timeout)."""
WARMUP_CAP = 1.0
"""The portal's warm-up is BENCH_WARMUP, at most this: its code paths are warm after a walk."""
LABELS = {
    "splash": "splash GET /p/{nas_id}",
    "api": "survey API POST (201)",
    "flow": "HTML flow, whole visits",
}
_SERVER_TROUBLE = re.compile(r"Traceback|\bERROR\b|\bCRITICAL\b|\" 5\d\d ")
_tags = itertools.count(1)


@dataclass(frozen=True, slots=True)
class PortalSetup:
    """A migrated database with one MikroTik point, and how to run the portal on it."""

    env: dict[str, str]
    port: int
    log_path: Path
    pid_path: Path


@dataclass(slots=True)
class PortalReport:
    """Everything measured on the portal."""

    version: str = ""
    clients: int = 0
    runs: dict[str, PortalRun] = field(default_factory=dict)
    sizes: list[PageSize] = field(default_factory=list)
    submitted: int = 0
    stored: int | None = None
    peak_rss_kib: int | None = None
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _say(text: str) -> None:
    print(text, flush=True)


def stale_marker(work_dir: Path) -> str:
    """Return the environment entry that marks a `cautiva portal` started by the bench."""
    return f"CAUTIVA_DATA_DIR={work_dir / 'data'}"


def version() -> str:
    """Return what `cautiva --version` prints, without starting another interpreter."""
    try:
        return f"cautiva, version {metadata.version('cautiva')}"
    except metadata.PackageNotFoundError:
        return "cautiva (version unknown)"


def prepare(pg: Postgres, work_dir: Path, port: int) -> PortalSetup:
    """Create the portal's database, migrate it and add a MikroTik point through the CLI."""
    if not executable().exists():
        raise CautivaError(f"{executable()} not found (run `make install`)")
    work_dir.mkdir(parents=True, exist_ok=True)
    env = cautiva_server.base_environment(pg, DATABASE, secrets.token_hex(32), work_dir / "data")
    env.update(
        CAUTIVA_PORTAL_HOST=HOST,
        CAUTIVA_PORTAL_PORT=str(port),
        # 0 = unlimited: the bench is one address at one point, far over any real budget.
        CAUTIVA_PORTAL_RATE_PER_DEVICE="0",
        CAUTIVA_PORTAL_RATE_PER_POINT="0",
    )
    postgres.recreate_database(pg, DATABASE)
    cli(env, "db", "upgrade")
    point = parse_json(
        cli(
            env,
            *("point", "add", "--name", "Bench portal", "--nas-id", NAS_ID),
            *("--nas-type", "mikrotik", "--json"),
        ),
        "cautiva point add --json",
    )
    if not isinstance(point, dict) or point.get("nas_id") != NAS_ID:
        raise CautivaError(f"`cautiva point add --json` printed {point!r}")
    return PortalSetup(
        env=env,
        port=port,
        log_path=work_dir / "cautiva-portal.log",
        pid_path=work_dir / "cautiva-portal.pid",
    )


@contextmanager
def running(setup: PortalSetup, ready_timeout: float = 30.0) -> Iterator[int]:
    """Run `cautiva portal` and yield its PID once uvicorn says it is listening."""
    with running_server(
        [str(executable()), "portal"],
        env=setup.env,
        log_path=setup.log_path,
        pid_path=setup.pid_path,
        ready_marker=READY,
        stale_marker=f"CAUTIVA_DATA_DIR={setup.env['CAUTIVA_DATA_DIR']}",
        ready_timeout=ready_timeout,
    ) as proc:
        yield proc.pid


def server_trouble(log_path: Path, limit: int = 8) -> tuple[int, list[str]]:
    """Count the portal log's error lines (tracebacks, ERROR, 5xx); return a few of them."""
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return 0, []
    found = [line for line in lines if _SERVER_TROUBLE.search(line)]
    return len(found), found[:limit]


def _describe(kind: str, run: PortalRun) -> str:
    unit = "visits/s" if kind == "flow" else "req/s"
    extra = f" ({run.request_rate:,.0f} req/s)" if kind == "flow" else ""
    errors = f", {run.errors} ERRORS" if run.errors else ""
    return (
        f"  {LABELS[kind]:<24} {run.clients} clients: {run.throughput:8,.0f} {unit}{extra}, "
        f"p50 {run.latency.p50_ms:7.1f} ms, p99 {run.latency.p99_ms:7.1f} ms{errors}"
    )


def _median_run(config: BenchConfig, spec: PortalSpec) -> PortalRun:
    runs = []
    for _ in range(config.rounds):
        # As the RADIUS part does: no run is measured on an earlier run's dead tuples.
        postgres.run_script(config.pg, DATABASE, "VACUUM ANALYZE")
        runs.append(run_load_in_process(replace(spec, tag=next(_tags))))
    runs.sort(key=lambda r: r.throughput)
    # Every round's errors and submissions count, whichever round is shown.
    median = runs[len(runs) // 2]
    if len(runs) > 1:
        errors = sum(r.errors for r in runs)
        kinds: dict[str, int] = {}
        for r in runs:
            for kind, count in r.error_kinds.items():
                kinds[kind] = kinds.get(kind, 0) + count
        samples = [s for r in runs for s in r.error_samples][:5]
        median = replace(
            median,
            errors=errors,
            error_kinds=kinds,
            error_samples=samples,
            submissions=sum(r.submissions for r in runs),
        )
    return median


def measure(config: BenchConfig, setup: PortalSetup, pid: int) -> PortalReport:
    """Walk the pages once for their sizes, then run each load at BENCH_PORTAL_CLIENTS."""
    report = PortalReport(clients=config.portal_clients)
    report.sizes = run_sync(
        lambda: page_sizes(HOST, setup.port, NAS_ID, next(_tags), REQUEST_TIMEOUT)
    )
    report.submitted = 1
    _say(
        "  page sizes (body bytes): "
        + ", ".join(f"{s.name} {s.body_bytes:,}" for s in report.sizes)
    )
    for kind in KINDS:
        spec = PortalSpec(
            host=HOST,
            port=setup.port,
            nas_id=NAS_ID,
            kind=kind,
            clients=config.portal_clients,
            warmup=min(config.warmup, WARMUP_CAP),
            seconds=config.portal_seconds,
            timeout=REQUEST_TIMEOUT,
            server_pid=pid,
            pg_database=DATABASE,
        )
        try:
            result = _median_run(config, spec)
        except PortalLoadError as exc:
            report.errors.append(f"{LABELS[kind]}: {exc}")
            _say(f"  {LABELS[kind]}: FAILED: {exc}")
            continue
        report.runs[kind] = result
        report.submitted += result.submissions
        _say(_describe(kind, result))
        if result.errors:
            kinds = ", ".join(f"{k}: {n}" for k, n in result.error_kinds.items())
            report.errors.append(f"{LABELS[kind]}: {result.errors} failed requests ({kinds})")
            for sample in result.error_samples:
                _say(f"    e.g. {sample}")
        if not procstat.process_alive(pid):
            raise PortalLoadError(f"the portal died during the {kind} load")
    report.peak_rss_kib = procstat.peak_rss_kib(pid)
    report.stored = int(postgres.fetch_value(config.pg, DATABASE, "SELECT count(*) FROM responses"))
    if report.stored != report.submitted:
        report.errors.append(
            f"{report.submitted} surveys got their grant but the database holds {report.stored}"
        )
    count, lines = server_trouble(setup.log_path)
    if count:
        report.errors.append(f"the portal logged {count} error lines, e.g. {lines[0][:200]}")
        _say(f"  portal log: {count} error lines; the first ones:")
        for line in lines:
            _say(f"    {line[:300]}")
    return report

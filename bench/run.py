"""Run the whole bench: Cautiva, a private FreeRADIUS + rlm_sql, the portal; print the tables."""

from __future__ import annotations

import os
import platform
import secrets
import signal
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import cautiva_server, export, freeradius, portal, ports, postgres, report, settings
from bench.dictionary import load_dictionary
from bench.packets import make_users
from bench.portal import PortalReport
from bench.portal_load import PortalLoadError
from bench.process import ServerError, log_tail, stop_stale
from bench.scenario import BenchError, ServerReport, Target, measure
from bench.settings import BenchConfig


def _say(text: str = "") -> None:
    print(text, flush=True)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def bench_cautiva(config: BenchConfig, dictionary: Any) -> ServerReport:
    """Set Cautiva up through its CLI, run `cautiva radius` and measure it."""
    _say("== Cautiva")
    work = config.out_dir / "cautiva"
    stop_stale(work / "cautiva-radius.pid", cautiva_server.stale_marker(work))
    auth_port, acct_port = ports.free_udp_ports(2)
    setup = cautiva_server.prepare(config.pg, work, auth_port, acct_port, config.users)
    name = cautiva_server.version(setup.env)
    _say(f"  {name}; database {cautiva_server.DATABASE}; {len(setup.credentials)} grants")
    users = make_users(setup.credentials)
    with cautiva_server.running(setup) as pid:
        _say(f"  cautiva radius PID {pid} on 127.0.0.1:{auth_port}/{acct_port}")
        target = Target(
            name="Cautiva",
            version=name,
            pid=pid,
            auth_port=auth_port,
            acct_port=acct_port,
            secret=setup.secret,
            nas_id=cautiva_server.NAS_ID,
            pg_database=cautiva_server.DATABASE,
            users=users,
            work_dir=work,
        )
        return measure(config, target, dictionary)


def bench_freeradius(config: BenchConfig, dictionary: Any) -> ServerReport:
    """Configure a private FreeRADIUS with rlm_sql, run it and measure it."""
    _say("== FreeRADIUS + rlm_sql (PostgreSQL)")
    work = config.out_dir / "freeradius"
    work.mkdir(parents=True, exist_ok=True)
    stop_stale(work / "freeradius.pid", str(work / "raddb"))
    users = make_users(
        [(f"fr{secrets.token_hex(4)}", secrets.token_hex(6)) for _ in range(config.users)]
    )
    freeradius.prepare_database(config.pg, users)
    auth_port, acct_port = ports.free_udp_ports(2)
    setup = freeradius.write_config(
        work,
        auth_port,
        acct_port,
        secrets.token_hex(16),
        config.pg.conninfo(freeradius.DATABASE),
    )
    name = freeradius.version()
    _say(f"  {name}; database {freeradius.DATABASE}; config {setup.conf_dir}")
    with freeradius.running(setup) as pid:
        _say(f"  freeradius PID {pid} on 127.0.0.1:{auth_port}/{acct_port}")
        target = Target(
            name="FreeRADIUS",
            version=name,
            pid=pid,
            auth_port=auth_port,
            acct_port=acct_port,
            secret=setup.secret,
            nas_id=freeradius.NAS_ID,
            pg_database=freeradius.DATABASE,
            users=users,
            work_dir=work,
        )
        return measure(config, target, dictionary)


def bench_portal(config: BenchConfig) -> PortalReport:
    """Set the portal up through the CLI, run `cautiva portal` and load it over HTTP."""
    _say("== Cautiva splash portal (PostgreSQL)")
    started = time.monotonic()
    work = config.out_dir / "portal"
    stop_stale(work / "cautiva-portal.pid", portal.stale_marker(work))
    setup = portal.prepare(config.pg, work, ports.free_tcp_port())
    name = portal.version()
    _say(f"  {name}; database {portal.DATABASE}; MikroTik point {portal.NAS_ID}")
    with portal.running(setup) as pid:
        _say(f"  cautiva portal PID {pid} on http://{portal.HOST}:{setup.port}")
        result = portal.measure(config, setup, pid)
    result.version = name
    _say(f"  portal part: {time.monotonic() - started:.0f} s")
    return result


RADIUS_PARTS = ("cautiva", "freeradius")


def _header(config: BenchConfig, dictionary_note: str | None) -> None:
    try:
        pg_version = postgres.server_version(config.pg)
    except Exception as exc:  # reported; every server will then fail with its own message
        pg_version = f"unreachable ({type(exc).__name__}: {exc})"
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    _say(
        f"bench: {os.cpu_count()} CPUs ({_cpu_model()}), load average {load}, "
        f"Python {platform.python_version()}"
    )
    _say(f"  PostgreSQL {pg_version} at {config.pg.host}:{config.pg.port}")
    quick = " (quick)" if config.quick else ""
    if dictionary_note is not None:
        _say(
            f"  RADIUS: {config.seconds:g} s measured after {config.warmup:g} s warm-up per run, "
            f"in flight {', '.join(map(str, config.concurrency))}, {config.users} users, "
            f"{config.rounds} round(s){quick}; dictionary: {dictionary_note}"
        )
    if "portal" in config.servers:
        _say(
            f"  portal: {config.portal_seconds:g} s measured after "
            f"{min(config.warmup, portal.WARMUP_CAP):g} s warm-up per load, "
            f"{config.portal_clients} concurrent HTTP clients, {config.rounds} round(s){quick}"
        )
    if "export" in config.servers:
        _say(
            f"  export: {config.export_responses:,} survey responses in SQLite; CSV, XLSX (the "
            f"first {export.xlsx_rows_of(config.export_responses):,}) and aggregates, "
            f"each in a fresh process{quick}"
        )
    _say(
        f"  the load generators run on the same {os.cpu_count()} CPUs as the servers and "
        f"PostgreSQL; artefacts in {config.out_dir}"
    )


def _traceback_if_unexpected(exc: Exception) -> None:
    if not isinstance(exc, (cautiva_server.CautivaError, ServerError, BenchError, PortalLoadError)):
        traceback.print_exception(exc, file=sys.stderr)


def _run_portal(config: BenchConfig) -> PortalReport:
    try:
        return bench_portal(config)
    except Exception as exc:  # reported; the table still prints
        _say(f"  portal FAILED: {exc}")
        _traceback_if_unexpected(exc)
        if not isinstance(exc, ServerError):
            _say("  log tail:\n" + log_tail(config.out_dir / "portal" / "cautiva-portal.log"))
        return PortalReport(clients=config.portal_clients, errors=[str(exc).splitlines()[0]])


def _run_export(config: BenchConfig) -> export.ExportReport:
    _say("== Cautiva exports (SQLite)")
    started = time.monotonic()
    try:
        result = export.measure(config)
    except Exception as exc:  # reported; the table still prints
        _say(f"  export FAILED: {exc}")
        traceback.print_exception(exc, file=sys.stderr)
        return export.ExportReport(responses=config.export_responses, errors=[str(exc)])
    _say(f"  export part: {time.monotonic() - started:.0f} s")
    return result


def run(
    config: BenchConfig,
) -> tuple[list[ServerReport], PortalReport | None, export.ExportReport | None, list[str]]:
    """Measure the configured parts; return the reports and which of Cautiva's parts failed."""
    radius = any(part in config.servers for part in RADIUS_PARTS)
    dictionary, note = load_dictionary() if radius else (None, None)
    _header(config, note)
    reports: list[ServerReport] = []
    cautiva_failed = False
    if "cautiva" in config.servers:
        try:
            result = bench_cautiva(config, dictionary)
            reports.append(result)
            cautiva_failed = bool(result.errors)
        except Exception as exc:  # any failure is reported; the FreeRADIUS part still runs
            cautiva_failed = True
            _say(f"  Cautiva FAILED: {exc}")
            _traceback_if_unexpected(exc)
            if isinstance(exc, BenchError):
                log = config.out_dir / "cautiva" / "cautiva-radius.log"
                _say("  log tail:\n" + log_tail(log))
            reports.append(ServerReport(name="Cautiva", errors=[str(exc).splitlines()[0]]))
    if "freeradius" in config.servers:
        reason = freeradius.missing()
        if reason is not None:
            _say(f"== FreeRADIUS skipped: {reason}")
        else:
            try:
                reports.append(bench_freeradius(config, dictionary))
            except Exception as exc:  # the peer is optional: report and carry on
                _say(f"  FreeRADIUS FAILED: {exc}")
                _traceback_if_unexpected(exc)
                log = config.out_dir / "freeradius" / "freeradius.log"
                if not isinstance(exc, ServerError):
                    _say("  log tail:\n" + log_tail(log))
                reports.append(ServerReport(name="FreeRADIUS", errors=[str(exc).splitlines()[0]]))
    failed = ["Cautiva's RADIUS part"] if cautiva_failed else []
    portal_report = _run_portal(config) if "portal" in config.servers else None
    if portal_report is not None and portal_report.errors:
        failed.append("the portal part")
    export_report = _run_export(config) if "export" in config.servers else None
    if export_report is not None and export_report.errors:
        failed.append("the export part")
    return reports, portal_report, export_report, failed


def _interrupted(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: Sequence[str]) -> int:
    """Run the bench and print the table; exit 1 when Cautiva's part failed."""
    config = settings.parse(argv)
    config.out_dir.mkdir(parents=True, exist_ok=True)
    # Ctrl-C and SIGTERM both unwind through the `finally` blocks that stop the servers,
    # even when a non-interactive shell started us with SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupted)
    started = time.monotonic()
    try:
        reports, portal_report, export_report, failed = run(config)
    except KeyboardInterrupt:
        _say("\ninterrupted; servers stopped")
        return 130
    tables = [report.render(config, reports, portal_report)]
    if export_report is not None:
        tables.append("\n".join(export.render(export_report)))
    _say()
    _say("\n\n".join(table for table in tables if table))
    results = config.out_dir / "results.json"
    report.write_json(
        results,
        config,
        reports,
        portal_report,
        export.as_dict(export_report) if export_report is not None else None,
    )
    _say(f"\n{time.monotonic() - started:.0f} s in all; figures also in {results}")
    if failed:
        print(f"bench: {' and '.join(failed)} FAILED", file=sys.stderr, flush=True)
        return 1
    return 0

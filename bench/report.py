"""The printed table and the JSON file of a bench run."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.load import LoadResult
from bench.portal import LABELS, PortalReport
from bench.portal_load import FLOW_PAGES, RESULT_PAGE, SIZE_BUDGET, Latency, PortalRun
from bench.portal_load import KINDS as PORTAL_KINDS
from bench.scenario import KINDS, ServerReport
from bench.settings import BenchConfig

_HEADER = (
    f"{'server':<11} {'request':<7} {'in flight':>9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
    f"{'server µs/req':>13} {'PG µs/req':>10} {'lost':>5} {'rejected':>8}"
)


def _num(value: float | None, fmt: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(value, fmt)


def _row(name: str, kind: str, result: LoadResult) -> str:
    return (
        f"{name:<11} {kind:<7} {result.in_flight:>9} {result.throughput:>9,.0f} "
        f"{_num(result.p50_ms, '.2f'):>8} {_num(result.p99_ms, '.2f'):>8} "
        f"{_num(result.per_request_us(result.server_cpu), ',.0f'):>13} "
        f"{_num(result.per_request_us(result.pg_cpu), ',.0f'):>10} "
        f"{result.lost:>5} {result.rejected:>8}"
    )


def _ratio(reports: Sequence[ServerReport], kind: str, in_flight: int) -> str:
    by_name = {r.name: r for r in reports}
    ours, theirs = by_name.get("Cautiva"), by_name.get("FreeRADIUS")
    if ours is None or theirs is None:
        return "-"
    a, b = ours.runs.get((kind, in_flight)), theirs.runs.get((kind, in_flight))
    if a is None or b is None or b.throughput == 0:
        return "-"
    return f"{a.throughput / b.throughput:.2f}x"


def render(
    config: BenchConfig, reports: Sequence[ServerReport], portal: PortalReport | None = None
) -> str:
    """Return the results tables as text: RADIUS (when measured), then the portal."""
    lines = _render_radius(config, reports) if reports else []
    if portal is not None:
        if lines:
            lines.append("")
        lines.extend(_render_portal(config, portal))
    return "\n".join(lines)


def _render_radius(config: BenchConfig, reports: Sequence[ServerReport]) -> list[str]:
    lines = [_HEADER, "-" * len(_HEADER)]
    for report in reports:
        for kind in KINDS:
            for in_flight in config.concurrency:
                result = report.runs.get((kind, in_flight))
                if result is not None:
                    lines.append(_row(report.name, kind, result))
                else:
                    lines.append(f"{report.name:<11} {kind:<7} {in_flight:>9} {'failed':>9}")
    lines.append("")
    lines.append("radclient cross-check (-p 64, wall clock including start-up):")
    for report in reports:
        for kind in KINDS:
            rc = report.radclient.get(kind)
            if rc is not None:
                lines.append(
                    f"  {report.name:<11} {kind}: {rc.rate:9,.0f} req/s "
                    f"({rc.requests} requests, {rc.lost} lost, {rc.rejected} rejected)"
                )
    lines.append("")
    lines.append("peak RSS (VmHWM):")
    for report in reports:
        rss = report.peak_rss_kib
        lines.append(f"  {report.name:<11} {rss / 1024:.1f} MiB" if rss else f"  {report.name} -")
    busiest = max(
        (r.generator_cpu / r.window for rep in reports for r in rep.runs.values() if r.window > 0),
        default=None,
    )
    if busiest is not None:
        lines.append("")
        lines.append(f"load generator: at most {busiest:.0%} of one core in any run")
    peak = config.peak_concurrency
    lines.append("")
    lines.append(
        f"Cautiva / FreeRADIUS throughput at {peak} in flight: "
        f"auth {_ratio(reports, 'auth', peak)}, acct {_ratio(reports, 'acct', peak)}"
    )
    for report in reports:
        for note in report.notes:
            lines.append(f"note ({report.name}): {note}")
        for error in report.errors:
            lines.append(f"error ({report.name}): {error}")
    return lines


OTHER_WORK_NOTICE = 0.25
"""Share of a core used by other processes beyond which the portal's figures carry a warning."""
_PORTAL_HEADER = (
    f"{'portal load':<24} {'rate':>15} {'p50 ms':>8} {'p99 ms':>8} "
    f"{'server µs':>10} {'PG µs':>8} {'errors':>7}"
)
_PAGES_HEADER = (
    f"{'HTML flow, page by page':<24} {'p50 ms':>8} {'p99 ms':>8} {'body bytes':>11} "
    f"{'of 30 KB':>9} {'headers':>8}"
)
_PAGE_LABELS = {
    "language": "language (the GET)",
    "message": "message (stores, grants)",
    RESULT_PAGE: "result (/connected)",
}


def _portal_row(kind: str, run: PortalRun) -> str:
    unit = "visits/s" if kind == "flow" else "req/s"
    return (
        f"{LABELS[kind]:<24} {run.throughput:>6,.0f} {unit:<8} "
        f"{_num(run.latency.p50_ms, '.1f'):>8} {_num(run.latency.p99_ms, '.1f'):>8} "
        f"{_num(run.per_unit_us(run.server_cpu), ',.0f'):>10} "
        f"{_num(run.per_unit_us(run.pg_cpu), ',.0f'):>8} {run.errors:>7}"
    )


def _page_rows(portal: PortalReport) -> list[str]:
    flow = portal.runs.get("flow")
    sizes = {s.name: s for s in portal.sizes}
    rows = []
    for name in (*FLOW_PAGES, RESULT_PAGE):
        timing = flow.pages.get(name) if flow is not None else None
        size = sizes.get(name)
        body = f"{size.body_bytes:,}" if size else "-"
        share = f"{size.body_bytes / SIZE_BUDGET:.0%}" if size else "-"
        if size and size.body_bytes > SIZE_BUDGET:
            share += " OVER"
        rows.append(
            f"{_PAGE_LABELS.get(name, name):<24} "
            f"{_num(timing.p50_ms if timing else None, '.1f'):>8} "
            f"{_num(timing.p99_ms if timing else None, '.1f'):>8} {body:>11} {share:>9} "
            f"{size.header_bytes if size else '-':>8}"
        )
    return rows


def _render_portal(config: BenchConfig, portal: PortalReport) -> list[str]:
    lines = [
        f"splash portal: `cautiva portal` (one process, uvicorn), PostgreSQL, "
        f"{portal.clients or config.portal_clients} concurrent clients, "
        f"{config.portal_seconds:g} s per load",
        _PORTAL_HEADER,
        "-" * len(_PORTAL_HEADER),
    ]
    for kind in PORTAL_KINDS:
        run = portal.runs.get(kind)
        lines.append(_portal_row(kind, run) if run else f"{LABELS[kind]:<24} {'failed':>15}")
    flow = portal.runs.get("flow")
    if flow is not None:
        lines.append(
            f"  HTML flow: {len(FLOW_PAGES)} requests a visit, {flow.request_rate:,.0f} req/s; "
            f"visits/s is that ÷ {len(FLOW_PAGES)} ({flow.completed} whole visits ended "
            "in the window);"
        )
        lines.append(
            "  its p50/p99 are of whole visits (a new connection each), CPU per visit; "
            "the other loads keep their connections"
        )
    lines.append("")
    lines.append(_PAGES_HEADER)
    lines.append("-" * len(_PAGES_HEADER))
    lines.extend(_page_rows(portal))
    encodings = {s.content_encoding for s in portal.sizes if s.content_encoding}
    if portal.sizes:
        lines.append(
            f"  bodies as sent, compressed with {', '.join(sorted(encodings))}"
            if encodings
            else "  bodies as sent: the portal does not compress (no Content-Encoding)"
        )
    lines.append("")
    rss = portal.peak_rss_kib
    lines.append(f"portal peak RSS (VmHWM): {rss / 1024:.1f} MiB" if rss else "portal peak RSS -")
    busiest = max(
        (r.generator_cpu / r.window for r in portal.runs.values() if r.window > 0), default=None
    )
    if busiest is not None:
        lines.append(
            f"portal load generator: at most {busiest:.0%} of one core; it shares the "
            f"{os.cpu_count()} CPUs with the portal and PostgreSQL"
        )
    foreign = max((r.other_cpu / r.window for r in portal.runs.values() if r.window > 0), default=0)
    if foreign > OTHER_WORK_NOTICE:
        lines.append(
            f"!!! other work on this machine used up to {foreign:.0%} of one core during the "
            "portal runs: the figures above are lower than on a quiet machine"
        )
    if portal.stored is not None:
        lines.append(
            f"surveys stored: {portal.stored:,} in the database, {portal.submitted:,} granted"
        )
    for note in portal.notes:
        lines.append(f"note (portal): {note}")
    if portal.errors:
        lines.append(
            f"!!! THE PORTAL HAD ERRORS: figures above are not clean ({len(portal.errors)})"
        )
    for error in portal.errors:
        lines.append(f"error (portal): {error}")
    return lines


def _result_dict(result: LoadResult) -> dict[str, Any]:
    raw = {
        "in_flight": result.in_flight,
        "throughput": result.throughput,
        "window_s": result.window,
        "completed": result.completed,
        "accepted": result.accepted,
        "rejected": result.rejected,
        "lost": result.lost,
        "invalid": result.invalid,
        "errors": result.errors,
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "mean_ms": result.mean_ms,
        "max_ms": result.max_ms,
        "server_cpu_us_per_request": result.per_request_us(result.server_cpu),
        "pg_cpu_us_per_request": result.per_request_us(result.pg_cpu),
        "generator_cpu_us_per_request": result.per_request_us(result.generator_cpu),
    }
    return _finite(raw)


def _latency_dict(latency: Latency) -> dict[str, Any]:
    return _finite(
        {
            "count": latency.count,
            "p50_ms": latency.p50_ms,
            "p99_ms": latency.p99_ms,
            "mean_ms": latency.mean_ms,
            "max_ms": latency.max_ms,
        }
    )


def _finite(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in raw.items()}


def _portal_run_dict(run: PortalRun) -> dict[str, Any]:
    return _finite(
        {
            "kind": run.kind,
            "clients": run.clients,
            "window_s": run.window,
            "throughput": run.throughput,
            "unit": "visits" if run.kind == "flow" else "requests",
            "completed": run.completed,
            "requests": run.requests,
            "request_rate": run.request_rate,
            "latency": _latency_dict(run.latency),
            "pages": {name: _latency_dict(lat) for name, lat in run.pages.items()},
            "errors": run.errors,
            "error_kinds": run.error_kinds,
            "error_samples": run.error_samples,
            "submissions": run.submissions,
            "server_cpu_us_per_unit": run.per_unit_us(run.server_cpu),
            "pg_cpu_us_per_unit": run.per_unit_us(run.pg_cpu),
            "generator_cpu_us_per_unit": run.per_unit_us(run.generator_cpu),
            "other_cpu_share_of_one_core": run.other_cpu / run.window if run.window else None,
        }
    )


def _portal_dict(portal: PortalReport) -> dict[str, Any]:
    return {
        "version": portal.version,
        "clients": portal.clients,
        "runs": [_portal_run_dict(run) for run in portal.runs.values()],
        "page_sizes": [
            {
                "page": s.name,
                "status": s.status,
                "body_bytes": s.body_bytes,
                "header_bytes": s.header_bytes,
                "content_encoding": s.content_encoding or None,
                "budget_bytes": SIZE_BUDGET,
            }
            for s in portal.sizes
        ],
        "surveys_granted": portal.submitted,
        "surveys_stored": portal.stored,
        "peak_rss_kib": portal.peak_rss_kib,
        "errors": portal.errors,
        "notes": portal.notes,
    }


def write_json(
    path: Path,
    config: BenchConfig,
    reports: Sequence[ServerReport],
    portal: PortalReport | None = None,
    export: dict[str, Any] | None = None,
) -> None:
    """Write every figure of the run to `path`."""
    payload = {
        "config": {
            "seconds": config.seconds,
            "warmup": config.warmup,
            "users": config.users,
            "concurrency": list(config.concurrency),
            "rounds": config.rounds,
            "portal_seconds": config.portal_seconds,
            "portal_clients": config.portal_clients,
            "export_responses": config.export_responses,
        },
        "servers": [
            {
                "name": r.name,
                "version": r.version,
                "peak_rss_kib": r.peak_rss_kib,
                "runs": [{"kind": kind, **_result_dict(res)} for (kind, _n), res in r.runs.items()],
                "radclient": {
                    kind: {"rate": rc.rate, "requests": rc.requests, "lost": rc.lost}
                    for kind, rc in r.radclient.items()
                },
                "errors": r.errors,
                "notes": r.notes,
            }
            for r in reports
        ],
        "portal": _portal_dict(portal) if portal is not None else None,
        "export": export,
    }
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")

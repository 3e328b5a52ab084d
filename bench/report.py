"""The printed table and the JSON file of a bench run."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.load import LoadResult
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


def render(config: BenchConfig, reports: Sequence[ServerReport]) -> str:
    """Return the results table as text."""
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
    return "\n".join(lines)


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
    return {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in raw.items()}


def write_json(path: Path, config: BenchConfig, reports: Sequence[ServerReport]) -> None:
    """Write every figure of the run to `path`."""
    payload = {
        "config": {
            "seconds": config.seconds,
            "warmup": config.warmup,
            "users": config.users,
            "concurrency": list(config.concurrency),
            "rounds": config.rounds,
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
    }
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")

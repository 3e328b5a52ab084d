"""The export part: a million survey responses in a fresh SQLite database, exported as the CLI does.

The database is made by `cautiva db upgrade`'s migrations, with 61 points in 20 departments and
the shipped forms published through the services; the responses are bulk-inserted in chunks of
10,000 (varied answers of both forms, 16 months of them). Each export then runs in a fresh
process (`run_in_child`) through the code path of `cautiva export`: `export_columns` +
`export_rows` + `write_csv` for all the responses, `write_xlsx` for the first tenth of them, at
most 20,000 (openpyxl without lxml writes some hundred rows a second: a million would take an
hour), and `aggregate_responses` by department.
The CSV goes to a sink that only counts its bytes, so the disk is not what is measured.

Memory: each child reports its peak RSS during the export (VmHWM, reset just before it starts)
and the RSS it had then. That the export holds no more when the rows grow tenfold is shown
apart, with tracemalloc (which slows Python down too much to trace the full run): the peak of
Python's allocations while exporting a few pages of responses, then ten times as many.
"""

from __future__ import annotations

import asyncio
import importlib
import io
import json
import random
import resource
import secrets
import time
import tracemalloc
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import column, create_engine, insert, table

from bench.child import run_in_child
from bench.settings import BenchConfig

POINTS = 61
DEPARTMENTS = 20
SPAN_DAYS = 480
START = datetime(2024, 1, 1, tzinfo=UTC)
CHUNK = 10_000
XLSX_ROWS = 20_000
BUDGET = 1800.0
"""Seconds a child may take before the export counts as failed."""
_KINDS = ("csv", "xlsx", "aggregates", "population")


class ExportBenchError(Exception):
    """The export part could not run."""


@dataclass(frozen=True, slots=True)
class ExportSpec:
    """One export to run in a child process."""

    url: str
    kind: str
    until: date | None
    traced: bool
    out_dir: str


@dataclass(frozen=True, slots=True)
class ExportRun:
    """What one export did and cost."""

    kind: str
    rows: int
    seconds: float
    output_bytes: int
    baseline_rss_kib: int
    peak_rss_kib: int
    traced_peak_bytes: int | None = None

    @property
    def rate(self) -> float:
        """Rows (responses read, for aggregates) per second."""
        return self.rows / self.seconds if self.seconds > 0 else 0.0


@dataclass(slots=True)
class ExportReport:
    """Everything the export part measured."""

    responses: int = 0
    generate_seconds: float = 0.0
    database_bytes: int = 0
    runs: list[ExportRun] = field(default_factory=list)
    traced: list[ExportRun] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _say(text: str) -> None:
    print(text, flush=True)


def _settings(url: str, data_dir: Path) -> Any:
    from cautiva.settings import Settings

    settings = Settings(env="development", secret_key=secrets.token_hex(32), data_dir=data_dir)
    settings.database.url = url
    return settings


def _answer_pool(rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    countries = ("VEN", "VEN", "VEN", "COL", "HTI", "ECU", "PER", "CUB")
    places = ("Cúcuta", "Pamplona", "Bucaramanga", "Ipiales", "Rumichaca", "Bogotá", "")
    needs = ("food", "water", "shelter", "health", "documentation", "transport", "work")
    risks = ("violence", "robbery", "extortion", "no_water_food", "health", "other")
    bands = (
        "girls_0_5",
        "boys_0_5",
        "girls_6_17",
        "boys_6_17",
        "women_18_59",
        "men_18_59",
        "women_60",
        "men_60",
    )
    full = []
    for _ in range(4000):
        counts = dict.fromkeys(bands, 0)
        counts[rng.choice(("women_18_59", "men_18_59"))] += 1
        for band in bands:
            if rng.random() < 0.25:
                counts[band] += rng.randint(1, 3)
        picked = sorted(rng.sample(risks, rng.choice((0, 1, 2))))
        full.append(
            {
                "group_size": sum(counts.values()),
                **counts,
                "nationality": rng.choice(countries),
                "coming_from": rng.choice(countries),
                "coming_from_place": rng.choice(places),
                "going_to": rng.choice(("PER", "CHL", "ECU", "COL", "USA", "not_sure")),
                "going_to_place": rng.choice(places),
                "stay": rng.choice(("hours", "days", "weeks", "months", "not_sure")),
                "needs": sorted(rng.sample(needs, rng.choice((1, 2, 3)))),
                "risks": picked or ["none"],
                **({"risks_help": rng.choice(("yes", "no"))} if picked else {}),
                "consent_messages": rng.choice(("yes", "no")),
            }
        )
    followup = [
        {
            "current_country": rng.choice(countries),
            "current_place": rng.choice(places),
            "going_to": rng.choice(("PER", "CHL", "ECU", "COL")),
            "going_to_place": rng.choice(places),
            "needs": sorted(rng.sample(needs, rng.choice((1, 2)))),
        }
        for _ in range(1000)
    ]
    return full, followup


async def _prepare(settings: Any) -> tuple[list[int], dict[str, tuple[int, str, str]]]:
    from cautiva.database import transaction
    from cautiva.forms.service import ensure_default_forms
    from cautiva.models import NasType
    from cautiva.points.service import NewPoint, add_point
    from cautiva.runtime import start_runtime

    runtime = start_runtime(settings)
    try:
        async with transaction(runtime.sessions) as session:
            forms = {
                row.kind: (row.id, row.form_id, row.version)
                for row in await ensure_default_forms(session)
            }
            ids = []
            for number in range(POINTS):
                department = f"Departamento {number % DEPARTMENTS:02d}"
                point = await add_point(
                    session,
                    new=NewPoint(
                        name=f"Punto {number:02d}",
                        nas_id=f"bench-export-{number:02d}",
                        nas_type=NasType.MIKROTIK,
                        department=department,
                        municipality=f"Municipio {number % (2 * DEPARTMENTS):02d}",
                    ),
                )
                ids.append(point.id)
        return ids, forms
    finally:
        await runtime.close()


_RESPONSE_COLUMNS = (
    "point_id",
    "survey_form_id",
    "form_id",
    "version",
    "lang",
    "answers",
    "person_key",
    "returning_person",
    "device_mac",
    "created_at",
)


def generate(path: Path, count: int, seed: int = 5) -> None:
    """Make a migrated SQLite database at `path` holding `count` survey responses."""
    from cautiva import migrate

    path.unlink(missing_ok=True)
    settings = _settings(f"sqlite+aiosqlite:///{path}", path.parent / "data")
    migrate.upgrade(settings)
    point_ids, forms = asyncio.run(_prepare(settings))
    full_form, followup_form = forms["full"], forms["followup"]
    rng = random.Random(seed)
    # Answers are JSON text and times UTC text, as the models store them in SQLite, written
    # through an untyped table: per-row type conversion would take most of the time.
    full, followup = ([json.dumps(a) for a in pool] for pool in _answer_pool(rng))
    responses = table("responses", *(column(name) for name in _RESPONSE_COLUMNS))
    step = timedelta(days=SPAN_DAYS) / count
    naive = START.replace(tzinfo=None)
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            # A bulk load into a throw-away file: no journal to write twice, no fsync, and a
            # page cache large enough for the indexes (person keys arrive in random order).
            for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-262144"):
                connection.exec_driver_sql(f"PRAGMA {pragma}")
            for first in range(0, count, CHUNK):
                rows = []
                for n in range(first, min(first + CHUNK, count)):
                    returning = rng.random() < 0.25
                    form = followup_form if returning else full_form
                    rows.append(
                        {
                            "point_id": point_ids[rng.randrange(POINTS)],
                            "survey_form_id": form[0],
                            "form_id": form[1],
                            "version": form[2],
                            "lang": "es" if n % 5 else "en",
                            "answers": rng.choice(followup if returning else full),
                            "person_key": f"{rng.getrandbits(256):064x}",
                            "returning_person": int(returning),
                            "device_mac": "02:" + rng.randbytes(5).hex(":").upper(),
                            "created_at": (naive + step * n).isoformat(" ", "microseconds"),
                        }
                    )
                connection.execute(insert(responses), rows)
    finally:
        engine.dispose()


def xlsx_rows_of(count: int) -> int:
    """How many of `count` responses the XLSX export writes: a tenth, at most XLSX_ROWS."""
    return min(max(count // 10, 1), XLSX_ROWS)


def _until(count: int, rows: int) -> date:
    """The last day of the export that holds about the first `rows` of `count` responses."""
    return (START + timedelta(days=SPAN_DAYS) / count * (rows - 1)).date()


class _Sink(io.StringIO):
    """A text stream that keeps nothing and counts the UTF-8 bytes it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.size = 0

    def write(self, text: str) -> int:
        self.size += len(text.encode())
        return len(text)


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise ExportBenchError(f"no {field} in /proc/self/status")


def _reset_peak_rss() -> int:
    """Start the peak RSS afresh (Linux: clear_refs 5) and return the RSS now, in KiB."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        # Without it the peak may be one from before the export: still an upper bound.
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return _status_kib("VmRSS")


async def _export(spec: ExportSpec) -> tuple[int, int]:
    from cautiva.analytics.population import population_figures
    from cautiva.analytics.scope import Period, Scope
    from cautiva.database import transaction
    from cautiva.exports import export_columns, export_rows, write_csv, write_xlsx
    from cautiva.exports.aggregates import Grouping, aggregate_responses
    from cautiva.runtime import start_runtime

    runtime = start_runtime(_settings(spec.url, Path(spec.out_dir) / "data"))
    try:
        async with transaction(runtime.sessions) as session:
            args: dict[str, Any] = {"since": None, "until": spec.until, "point_id": None}
            if spec.kind == "aggregates":
                table = await aggregate_responses(
                    session, grouping=Grouping.DEPARTMENT, threshold=5, **args
                )
                sink = _Sink()
                await write_csv(sink, columns=table.columns, rows=table.stream(), hxl=table.hxl)
                return sum(int(row["responses"] or 0) for row in table.rows), sink.size
            if spec.kind == "population":
                # The population dashboard's default view: the last 30 days, every point.
                last = (START + timedelta(days=SPAN_DAYS - 1)).date()
                figures = await population_figures(
                    session,
                    period=Period(last - timedelta(days=29), last),
                    scope=Scope(),
                    threshold=5,
                )
                return figures.responses or 0, 0
            columns = await export_columns(session, **args)
            rows = export_rows(session, columns=columns, **args)
            if spec.kind == "csv":
                sink = _Sink()
                count = await write_csv(sink, columns=columns.names, rows=rows, hxl=columns.hxl)
                return count, sink.size
            target = Path(spec.out_dir) / "responses.xlsx"
            try:
                count = await write_xlsx(target, columns=columns.names, rows=rows, hxl=columns.hxl)
                return count, target.stat().st_size
            finally:
                target.unlink(missing_ok=True)
    finally:
        await runtime.close()


def run_export(spec: ExportSpec) -> ExportRun:
    """Run one export as `cautiva export` does and measure it (in a fresh child process)."""
    # Imported before the baseline is taken: the export's own growth is what is reported.
    for module in (
        "cautiva.exports.aggregates",
        "cautiva.analytics.population",
        "cautiva.runtime",
        "cautiva.database",
    ):
        importlib.import_module(module)

    baseline = _reset_peak_rss()
    if spec.traced:
        tracemalloc.start()
    started = time.perf_counter()
    try:
        rows, size = asyncio.run(_export(spec))
        seconds = time.perf_counter() - started
        traced = tracemalloc.get_traced_memory()[1] if spec.traced else None
    finally:
        tracemalloc.stop()
    return ExportRun(
        kind=spec.kind,
        rows=rows,
        seconds=seconds,
        output_bytes=size,
        baseline_rss_kib=baseline,
        peak_rss_kib=_status_kib("VmHWM"),
        traced_peak_bytes=traced,
    )


def _child(spec: ExportSpec) -> ExportRun:
    return run_in_child(
        run_export,
        spec,
        result_type=ExportRun,
        name=f"export-{spec.kind}",
        budget=BUDGET,
        error=ExportBenchError,
    )


def _describe(run: ExportRun) -> str:
    unit = "rows" if run.kind in ("csv", "xlsx") else "responses read"
    return (
        f"  {run.kind:<10} {run.rows:>9,} {unit}: {run.seconds:7.1f} s, {run.rate:>9,.0f}/s, "
        f"{run.output_bytes / 1e6:8.1f} MB out, peak RSS {run.peak_rss_kib / 1024:6.1f} MiB "
        f"({(run.peak_rss_kib - run.baseline_rss_kib) / 1024:+.1f} MiB during the export)"
    )


def measure(config: BenchConfig) -> ExportReport:
    """Generate the responses, then time each export in a fresh process."""
    report = ExportReport(responses=config.export_responses)
    work = config.out_dir / "export"
    work.mkdir(parents=True, exist_ok=True)
    path = work / "responses.sqlite"
    url = f"sqlite+aiosqlite:///{path}"
    count = config.export_responses
    started = time.perf_counter()
    try:
        generate(path, count)
        report.generate_seconds = time.perf_counter() - started
        report.database_bytes = path.stat().st_size
        _say(
            f"  generated {count:,} responses in {report.generate_seconds:.1f} s "
            f"({count / report.generate_seconds:,.0f}/s), database "
            f"{report.database_bytes / 1e6:,.0f} MB"
        )
        xlsx_rows = xlsx_rows_of(count)
        for kind, until in (
            ("csv", None),
            ("xlsx", None if xlsx_rows == count else _until(count, xlsx_rows)),
            ("aggregates", None),
            ("population", None),
        ):
            spec = ExportSpec(url, kind, until, traced=False, out_dir=str(work))
            try:
                run = _child(spec)
            except ExportBenchError as exc:
                report.errors.append(f"{kind}: {exc}")
                _say(f"  {kind}: FAILED: {exc}")
                continue
            report.runs.append(run)
            _say(_describe(run))
        # At least two pages of responses (the export reads 1,000 at a time), then ten times as
        # many: with memory that does not grow, both peaks are alike.
        small = min(2000, count // 10)
        for rows in (small, small * 10):
            spec = ExportSpec(url, "csv", _until(count, rows), True, str(work))
            try:
                run = _child(spec)
            except ExportBenchError as exc:
                report.errors.append(f"traced csv: {exc}")
                _say(f"  traced csv: FAILED: {exc}")
                break
            report.traced.append(run)
            _say(
                f"  csv under tracemalloc, {run.rows:>9,} rows: Python's peak "
                f"{(run.traced_peak_bytes or 0) / 1024:,.0f} KiB"
            )
    finally:
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
    return report


def render(report: ExportReport) -> list[str]:
    """The export part's table."""
    header = (
        f"{'export':<11} {'rows':>9} {'seconds':>8} {'rows/s':>9} {'MB out':>8} "
        f"{'peak RSS MiB':>12} {'growth MiB':>10}"
    )
    lines = [
        f"exports: `cautiva export` code paths on SQLite, {report.responses:,} responses "
        f"(generated in {report.generate_seconds:.0f} s); aggregates by department and "
        "population (the dashboard's last 30 days): rows = responses read",
        header,
        "-" * len(header),
    ]
    by_kind = {run.kind: run for run in report.runs}
    for kind in _KINDS:
        run = by_kind.get(kind)
        if run is None:
            lines.append(f"{kind:<11} {'failed':>9}")
            continue
        lines.append(
            f"{kind:<11} {run.rows:>9,} {run.seconds:>8.1f} {run.rate:>9,.0f} "
            f"{run.output_bytes / 1e6:>8.1f} {run.peak_rss_kib / 1024:>12.1f} "
            f"{(run.peak_rss_kib - run.baseline_rss_kib) / 1024:>10.1f}"
        )
    if len(report.traced) == 2:
        small, large = report.traced
        lines.append(
            f"constant memory: tracemalloc peak {(small.traced_peak_bytes or 0) / 1024:,.0f} KiB "
            f"for {small.rows:,} rows, {(large.traced_peak_bytes or 0) / 1024:,.0f} KiB "
            f"for {large.rows:,}"
        )
    for error in report.errors:
        lines.append(f"error (export): {error}")
    return lines


def as_dict(report: ExportReport) -> dict[str, Any]:
    """Every figure of the export part, for results.json."""

    def run_dict(run: ExportRun) -> dict[str, Any]:
        return {
            "kind": run.kind,
            "rows": run.rows,
            "seconds": run.seconds,
            "rows_per_second": run.rate,
            "output_bytes": run.output_bytes,
            "baseline_rss_kib": run.baseline_rss_kib,
            "peak_rss_kib": run.peak_rss_kib,
            "traced_peak_bytes": run.traced_peak_bytes,
        }

    return {
        "responses": report.responses,
        "generate_seconds": report.generate_seconds,
        "database_bytes": report.database_bytes,
        "runs": [run_dict(run) for run in report.runs],
        "traced": [run_dict(run) for run in report.traced],
        "errors": report.errors,
    }

"""`cautiva export`: survey responses, and aggregates to share, as CSV or XLSX (streamed)."""

from __future__ import annotations

import io
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import click

from cautiva.cli.main import run_async
from cautiva.database import transaction
from cautiva.exports import export_columns, export_rows, write_csv, write_xlsx
from cautiva.exports.aggregates import AggregateTable, Grouping, aggregate_responses
from cautiva.exports.writers import Row
from cautiva.points.service import get_point
from cautiva.runtime import Runtime

DATE = click.DateTime(formats=["%Y-%m-%d"])


@click.group()
def export() -> None:
    """Export survey data (never an email, MAC, IP or grant and session identifiers)."""


@contextmanager
def _replaced_on_success(path: Path) -> Iterator[Path]:
    """Yield a hidden path beside `path`, moved into place only if the block succeeds."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        yield partial
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


async def _write(
    fmt: str,
    output: Path | None,
    *,
    columns: Sequence[str],
    rows: AsyncIterator[Row],
    hxl: Sequence[str] | None,
    title: str = "responses",
) -> int:
    """Write the rows as `fmt` to `output`, or to stdout; return how many rows."""
    if fmt == "csv":
        if output is not None:
            with (
                _replaced_on_success(output) as partial,
                partial.open("w", encoding="utf-8", newline="") as stream,
            ):
                return await write_csv(stream, columns=columns, rows=rows, hxl=hxl)
        text = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
        try:
            return await write_csv(text, columns=columns, rows=rows, hxl=hxl)
        finally:
            text.flush()
            text.detach()
    if output is not None:
        with _replaced_on_success(output) as partial:
            return await write_xlsx(partial, columns=columns, rows=rows, hxl=hxl, title=title)
    # A zip is written with seeks: build it in a temporary file, then copy it out.
    with tempfile.TemporaryFile() as spool:
        count = await write_xlsx(spool, columns=columns, rows=rows, hxl=hxl, title=title)
        spool.seek(0)
        shutil.copyfileobj(spool, sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return count


def _days(since: datetime | None, until: datetime | None) -> tuple[date | None, date | None]:
    first = None if since is None else since.date()
    last = None if until is None else until.date()
    if first is not None and last is not None and first > last:
        raise click.UsageError(f"--from {first} is after --to {last}")
    return first, last


def _binary_needs_a_file(fmt: str, output: Path | None) -> None:
    if fmt == "xlsx" and output is None and sys.stdout.isatty():
        raise click.UsageError(
            "an xlsx workbook is binary: give --output FILE or redirect stdout to a file"
        )


@export.command("responses")
@click.option("--from", "since", type=DATE, help="First day (YYYY-MM-DD, UTC), included.")
@click.option("--to", "until", type=DATE, help="Last day (YYYY-MM-DD, UTC), included.")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx"]), required=True, help="File format."
)
@click.option("--hxl", is_flag=True, help="Add a row of HXL hashtags under the header.")
@click.option("--point", "point_ref", help="Only this point (id or NAS-Identifier).")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file instead of stdout.",
)
def responses(
    since: datetime | None,
    until: datetime | None,
    fmt: str,
    hxl: bool,
    point_ref: str | None,
    output: Path | None,
) -> None:
    """One row per survey response: point, place, date, form, language, pseudonym, answers."""
    first, last = _days(since, until)
    _binary_needs_a_file(fmt, output)

    async def work(runtime: Runtime) -> int:
        async with transaction(runtime.sessions) as session:
            point_id = None if point_ref is None else (await get_point(session, ref=point_ref)).id
            columns = await export_columns(session, since=first, until=last, point_id=point_id)
            rows = export_rows(session, since=first, until=last, point_id=point_id, columns=columns)
            tags = columns.hxl if hxl else None
            return await _write(fmt, output, columns=columns.names, rows=rows, hxl=tags)

    count = run_async(work)
    click.echo(f"cautiva: exported {count} responses", err=True)


@export.command("aggregates")
@click.option(
    "--by",
    "grouping",
    type=click.Choice([g.value for g in Grouping]),
    required=True,
    help="One row per department, municipality, point or ISO week (its Monday, UTC).",
)
@click.option("--from", "since", type=DATE, help="First day (YYYY-MM-DD, UTC), included.")
@click.option("--to", "until", type=DATE, help="Last day (YYYY-MM-DD, UTC), included.")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", help="File format."
)
@click.option("--hxl", is_flag=True, help="Add a row of HXL hashtags under the header.")
@click.option("--point", "point_ref", help="Only this point (id or NAS-Identifier).")
@click.option(
    "--threshold",
    type=click.IntRange(min=1, max=1000),
    help="Hide counts below this (at least CAUTIVA_ANALYTICS_SMALL_CELL_THRESHOLD, the default).",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file instead of stdout.",
)
def aggregates(
    grouping: str,
    since: datetime | None,
    until: datetime | None,
    fmt: str,
    hxl: bool,
    point_ref: str | None,
    threshold: int | None,
    output: Path | None,
) -> None:
    """Responses and people characterised by sex and age, per group, small cells hidden."""
    first, last = _days(since, until)
    _binary_needs_a_file(fmt, output)

    async def work(runtime: Runtime) -> AggregateTable:
        floor = runtime.settings.analytics.small_cell_threshold
        if threshold is not None and threshold < floor:
            # Stricter only: the operator's setting is the least protection any output gets.
            raise click.UsageError(
                f"--threshold {threshold} is below the operator's small-cell threshold {floor} "
                "(CAUTIVA_ANALYTICS_SMALL_CELL_THRESHOLD); only a stricter one may be asked"
            )
        async with transaction(runtime.sessions) as session:
            point_id = None if point_ref is None else (await get_point(session, ref=point_ref)).id
            table = await aggregate_responses(
                session,
                grouping=Grouping(grouping),
                since=first,
                until=last,
                point_id=point_id,
                threshold=floor if threshold is None else threshold,
            )
        tags = table.hxl if hxl else None
        await _write(
            fmt, output, columns=table.columns, rows=table.stream(), hxl=tags, title="aggregates"
        )
        return table

    table = run_async(work)
    note = f", {table.hidden} small cells hidden" if table.hidden else ""
    click.echo(
        f"cautiva: exported {len(table.rows)} rows by {table.grouping.value} "
        f"(threshold {table.threshold}{note})",
        err=True,
    )

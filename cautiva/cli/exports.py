"""`cautiva export`: survey responses as CSV or XLSX for analysts, streamed in constant memory."""

from __future__ import annotations

import io
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import click

from cautiva.cli.main import run_async
from cautiva.database import transaction
from cautiva.exports import export_columns, export_rows, write_csv, write_xlsx
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
    first: date | None = None if since is None else since.date()
    last: date | None = None if until is None else until.date()
    if first is not None and last is not None and first > last:
        raise click.UsageError(f"--from {first} is after --to {last}")
    if fmt == "xlsx" and output is None and sys.stdout.isatty():
        raise click.UsageError(
            "an xlsx workbook is binary: give --output FILE or redirect stdout to a file"
        )

    async def work(runtime: Runtime) -> int:
        async with transaction(runtime.sessions) as session:
            point_id = None if point_ref is None else (await get_point(session, ref=point_ref)).id
            columns = await export_columns(session, since=first, until=last, point_id=point_id)
            rows = export_rows(session, since=first, until=last, point_id=point_id, columns=columns)
            tags = columns.hxl if hxl else None
            if fmt == "csv":
                if output is not None:
                    with (
                        _replaced_on_success(output) as partial,
                        partial.open("w", encoding="utf-8", newline="") as stream,
                    ):
                        return await write_csv(stream, columns=columns.names, rows=rows, hxl=tags)
                text = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
                try:
                    return await write_csv(text, columns=columns.names, rows=rows, hxl=tags)
                finally:
                    text.flush()
                    text.detach()
            if output is not None:
                with _replaced_on_success(output) as partial:
                    return await write_xlsx(partial, columns=columns.names, rows=rows, hxl=tags)
            # A zip is written with seeks: build it in a temporary file, then copy it out.
            with tempfile.TemporaryFile() as spool:
                count = await write_xlsx(spool, columns=columns.names, rows=rows, hxl=tags)
                spool.seek(0)
                shutil.copyfileobj(spool, sys.stdout.buffer)
                sys.stdout.buffer.flush()
                return count

    count = run_async(work)
    click.echo(f"cautiva: exported {count} responses", err=True)

"""Downloads for analysts: the same files as `cautiva export responses` and `export aggregates`.

The file streams while the database is read in keyset pages (constant memory); an XLSX is a zip
written with seeks, so it is built in a temporary file first and then sent. Every download is
written to the audit log with its filters.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date
from typing import IO, Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.database import transaction
from cautiva.errors import CautivaError
from cautiva.exports import export_columns, export_rows, write_xlsx
from cautiva.exports.aggregates import Grouping, aggregate_responses
from cautiva.exports.writers import csv_cell
from cautiva.models import utcnow
from cautiva.points.service import get_point, list_points
from cautiva.runtime import Runtime
from cautiva.staff.roles import Right
from cautiva.staff.service import Principal, audit
from portal_api.admin.auth import allowed
from portal_api.admin.pages import page, refused
from portal_api.deps import RuntimeDep, SessionDep

router = APIRouter(prefix="/admin/exports", include_in_schema=False)

Exporter = Annotated[Principal, allowed(Right.EXPORT)]
CHUNK = 64 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("", response_class=HTMLResponse)
async def exports_page(request: Request, principal: Exporter, session: SessionDep) -> HTMLResponse:
    """The download form: period, point, format, HXL row."""
    points = await list_points(session)
    return page(
        request,
        "exports.html",
        title="Exports",
        principal=principal,
        points=points,
        groupings=[g.value for g in Grouping],
    )


@dataclass(frozen=True, slots=True)
class Asked:
    """The filters of a download as the form sent them."""

    since: str
    until: str
    point: str
    format: str
    hxl: bool

    def details(self) -> dict[str, object]:
        """The filters for the audit log."""
        return {"from": self.since, "to": self.until, "format": self.format, "hxl": self.hxl}


def _asked(
    since: Annotated[str, Query(alias="from")] = "",
    until: Annotated[str, Query(alias="to")] = "",
    point: str = "",
    format: str = "csv",
    hxl: str = "",
) -> Asked:
    return Asked(since, until, point, format, bool(hxl))


AskedDep = Annotated[Asked, Depends(_asked)]


@dataclass(frozen=True, slots=True)
class Checked:
    """The filters of a download, checked: days, point id and the file name's dates."""

    first: date | None
    last: date | None
    point_id: int | None

    def stamp(self) -> str:
        """The period as a file name shows it."""
        return f"{self.first or 'start'}-{self.last or utcnow().date()}"


async def _check(session: AsyncSession, asked: Asked) -> Checked | str:
    """The checked filters, or the reason they cannot be used."""
    try:
        first = date.fromisoformat(asked.since) if asked.since else None
        last = date.fromisoformat(asked.until) if asked.until else None
    except ValueError:
        return "Dates are written YYYY-MM-DD."
    if first is not None and last is not None and first > last:
        return f"The period starts ({first}) after it ends ({last})."
    if asked.format not in ("csv", "xlsx"):
        return "The format is csv or xlsx."
    try:
        point_id = (await get_point(session, ref=asked.point)).id if asked.point else None
    except CautivaError as error:
        return str(error)
    return Checked(first, last, point_id)


def _attachment(name: str) -> dict[str, str]:
    return {
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }


def _bad(request: Request, principal: Principal, reason: str) -> HTMLResponse:
    return refused(request, principal, "Cannot export", reason, 400)


@router.get("/responses", response_model=None)
async def responses_download(
    request: Request, principal: Exporter, runtime: RuntimeDep, asked: AskedDep
) -> StreamingResponse | HTMLResponse:
    """One row per response (never an email, MAC, IP, grant or person key), as CSV or XLSX."""
    async with transaction(runtime.sessions) as session:
        checked = await _check(session, asked)
        if isinstance(checked, str):
            return _bad(request, principal, checked)
        await audit(
            session,
            principal=principal,
            action="export.responses",
            target=asked.point or "all points",
            details=asked.details(),
            now=utcnow(),
        )
    first, last, point_id = checked.first, checked.last, checked.point_id
    headers = _attachment(f"cautiva-responses-{checked.stamp()}.{asked.format}")
    if asked.format == "csv":
        body = _csv_stream(runtime, first, last, point_id, asked.hxl)
        return StreamingResponse(body, media_type="text/csv; charset=utf-8", headers=headers)
    spool = await _xlsx_spool(runtime, first, last, point_id, asked.hxl)
    return StreamingResponse(_read_and_close(spool), media_type=XLSX, headers=headers)


async def _csv_stream(
    runtime: Runtime, first: date | None, last: date | None, point_id: int | None, hxl: bool
) -> AsyncIterator[bytes]:
    # Its own session: the request's transaction has ended by the time the body streams.
    async with runtime.sessions() as session:
        columns = await export_columns(session, since=first, until=last, point_id=point_id)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns.names)
        if hxl:
            writer.writerow(columns.hxl)
        rows = export_rows(session, since=first, until=last, point_id=point_id, columns=columns)
        async for row in rows:
            writer.writerow([csv_cell(row.get(column)) for column in columns.names])
            if buffer.tell() >= CHUNK:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode()


async def _xlsx_spool(
    runtime: Runtime, first: date | None, last: date | None, point_id: int | None, hxl: bool
) -> IO[bytes]:
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _read_and_close
    async with runtime.sessions() as session:
        columns = await export_columns(session, since=first, until=last, point_id=point_id)
        rows = export_rows(session, since=first, until=last, point_id=point_id, columns=columns)
        await write_xlsx(spool, columns=columns.names, rows=rows, hxl=columns.hxl if hxl else None)
    spool.seek(0)
    return spool


def _read_and_close(spool: IO[bytes]) -> Iterator[bytes]:
    with spool:
        while chunk := spool.read(CHUNK):
            yield chunk


@router.get("/aggregates", response_model=None)
async def aggregates_download(
    request: Request,
    principal: Exporter,
    runtime: RuntimeDep,
    asked: AskedDep,
    by: str = "department",
) -> StreamingResponse | HTMLResponse:
    """Responses and people characterised by sex and age per group, small cells left empty."""
    if by not in {g.value for g in Grouping}:
        return _bad(request, principal, "Group by department, municipality, point or week.")
    async with transaction(runtime.sessions) as session:
        checked = await _check(session, asked)
        if isinstance(checked, str):
            return _bad(request, principal, checked)
        table = await aggregate_responses(
            session,
            grouping=Grouping(by),
            since=checked.first,
            until=checked.last,
            point_id=checked.point_id,
            threshold=runtime.settings.analytics.small_cell_threshold,
        )
        await audit(
            session,
            principal=principal,
            action="export.aggregates",
            target=asked.point or "all points",
            details={"by": by, **asked.details()},
            now=utcnow(),
        )
    name = f"cautiva-aggregates-by-{by}-{checked.stamp()}.{asked.format}"
    tags = table.hxl if asked.hxl else None
    if asked.format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(table.columns)
        if tags is not None:
            writer.writerow(tags)
        for row in table.rows:
            writer.writerow([csv_cell(row.get(column)) for column in table.columns])
        body = iter([buffer.getvalue().encode()])
        return StreamingResponse(
            body, media_type="text/csv; charset=utf-8", headers=_attachment(name)
        )
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _read_and_close
    await write_xlsx(
        spool, columns=table.columns, rows=table.stream(), hxl=tags, title="aggregates"
    )
    spool.seek(0)
    return StreamingResponse(_read_and_close(spool), media_type=XLSX, headers=_attachment(name))

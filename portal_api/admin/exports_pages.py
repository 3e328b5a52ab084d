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
from datetime import date
from typing import IO, Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse

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
from portal_api.admin.pages import page
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


def _period(since: str, until: str) -> tuple[date | None, date | None] | str:
    try:
        first = date.fromisoformat(since) if since else None
        last = date.fromisoformat(until) if until else None
    except ValueError:
        return "Dates are written YYYY-MM-DD."
    if first is not None and last is not None and first > last:
        return f"The period starts ({first}) after it ends ({last})."
    return first, last


def _attachment(name: str) -> dict[str, str]:
    return {
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }


def _bad(request: Request, principal: Principal, reason: str) -> HTMLResponse:
    return page(
        request,
        "message.html",
        title="Cannot export",
        status_code=400,
        principal=principal,
        text=reason,
    )


@router.get("/responses", response_model=None)
async def responses_download(
    request: Request,
    principal: Exporter,
    runtime: RuntimeDep,
    since: Annotated[str, Query(alias="from")] = "",
    until: Annotated[str, Query(alias="to")] = "",
    point: str = "",
    format: str = "csv",
    hxl: str = "",
) -> StreamingResponse | HTMLResponse:
    """One row per response (never an email, MAC, IP, grant or person key), as CSV or XLSX."""
    period = _period(since, until)
    if isinstance(period, str):
        return _bad(request, principal, period)
    first, last = period
    if format not in ("csv", "xlsx"):
        return _bad(request, principal, "The format is csv or xlsx.")
    async with transaction(runtime.sessions) as session:
        try:
            point_id = (await get_point(session, ref=point)).id if point else None
        except CautivaError as error:
            return _bad(request, principal, str(error))
        await audit(
            session,
            principal=principal,
            action="export.responses",
            target=point or "all points",
            details={"from": since, "to": until, "format": format, "hxl": bool(hxl)},
            now=utcnow(),
        )
    name = f"cautiva-responses-{first or 'start'}-{last or utcnow().date()}.{format}"
    headers = _attachment(name)
    if format == "csv":
        body = _csv_stream(runtime, first, last, point_id, bool(hxl))
        return StreamingResponse(body, media_type="text/csv; charset=utf-8", headers=headers)
    spool = await _xlsx_spool(runtime, first, last, point_id, bool(hxl))
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
    by: str = "department",
    since: Annotated[str, Query(alias="from")] = "",
    until: Annotated[str, Query(alias="to")] = "",
    point: str = "",
    format: str = "csv",
    hxl: str = "",
) -> StreamingResponse | HTMLResponse:
    """Responses and people characterised by sex and age per group, small cells left empty."""
    period = _period(since, until)
    if isinstance(period, str):
        return _bad(request, principal, period)
    first, last = period
    if by not in {g.value for g in Grouping}:
        return _bad(request, principal, "Group by department, municipality, point or week.")
    if format not in ("csv", "xlsx"):
        return _bad(request, principal, "The format is csv or xlsx.")
    async with transaction(runtime.sessions) as session:
        try:
            point_id = (await get_point(session, ref=point)).id if point else None
        except CautivaError as error:
            return _bad(request, principal, str(error))
        table = await aggregate_responses(
            session,
            grouping=Grouping(by),
            since=first,
            until=last,
            point_id=point_id,
            threshold=runtime.settings.analytics.small_cell_threshold,
        )
        await audit(
            session,
            principal=principal,
            action="export.aggregates",
            target=point or "all points",
            details={"by": by, "from": since, "to": until, "format": format, "hxl": bool(hxl)},
            now=utcnow(),
        )
    name = f"cautiva-aggregates-by-{by}-{first or 'start'}-{last or utcnow().date()}.{format}"
    tags = table.hxl if hxl else None
    if format == "csv":
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

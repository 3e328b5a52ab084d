"""A point's service figures per UTC day: counted from raw sessions, or kept after a purge.

One definition serves both the dashboards and `cautiva purge` (which writes these figures into
`service_days` before it deletes the raw rows), so a purged day reads the same as before.
- sessions: accounting sessions that started that day (or were first heard of, without start);
- devices: distinct device MACs among them;
- seconds, input/output bytes: their totals (RFC 2869 gigawords included);
- logins: grants first used that day at the point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.analytics.scope import utc_day
from cautiva.models import AccountingSession, Grant, ServiceDay

_GIGAWORD = 1 << 32


@dataclass(frozen=True, slots=True)
class DayFigures:
    """One point's service figures for one UTC day."""

    day: date
    point_id: int
    sessions: int = 0
    devices: int = 0
    seconds: int = 0
    input_bytes: int = 0
    output_bytes: int = 0
    logins: int = 0


def _day(value: object) -> date:
    # SQLite returns date() as text; PostgreSQL as a date.
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


async def raw_service_days(
    session: AsyncSession,
    *,
    start: datetime,
    end: datetime,
    point_ids: Sequence[int] | None = None,
) -> list[DayFigures]:
    """Figures per (day, point) counted from sessions and grants in [start, end), by day."""
    s = AccountingSession
    when = func.coalesce(s.started_at, s.updated_at)
    day = utc_day(when)
    sessions_query = (
        select(
            day,
            s.point_id,
            func.count(),
            func.count(func.distinct(s.mac)),
            func.coalesce(func.sum(s.session_time), 0),
            func.coalesce(func.sum(s.input_octets), 0),
            func.coalesce(func.sum(s.input_gigawords), 0),
            func.coalesce(func.sum(s.output_octets), 0),
            func.coalesce(func.sum(s.output_gigawords), 0),
        )
        .where(when >= start, when < end)
        .group_by(day, s.point_id)
    )
    login_day = utc_day(Grant.first_login_at)
    logins_query = (
        select(login_day, Grant.point_id, func.count())
        .where(Grant.first_login_at >= start, Grant.first_login_at < end)
        .group_by(login_day, Grant.point_id)
    )
    if point_ids is not None:
        sessions_query = sessions_query.where(s.point_id.in_(point_ids))
        logins_query = logins_query.where(Grant.point_id.in_(point_ids))
    figures: dict[tuple[date, int], DayFigures] = {}
    for raw_day, point_id, count, devices, seconds, in_o, in_g, out_o, out_g in (
        await session.execute(sessions_query)
    ).all():
        key = (_day(raw_day), point_id)
        figures[key] = DayFigures(
            day=key[0],
            point_id=point_id,
            sessions=int(count),
            devices=int(devices),
            seconds=int(seconds),
            input_bytes=int(in_o) + int(in_g) * _GIGAWORD,
            output_bytes=int(out_o) + int(out_g) * _GIGAWORD,
        )
    for raw_day, point_id, count in (await session.execute(logins_query)).all():
        key = (_day(raw_day), point_id)
        known = figures.get(key) or DayFigures(day=key[0], point_id=point_id)
        figures[key] = DayFigures(
            day=known.day,
            point_id=known.point_id,
            sessions=known.sessions,
            devices=known.devices,
            seconds=known.seconds,
            input_bytes=known.input_bytes,
            output_bytes=known.output_bytes,
            logins=int(count),
        )
    return [figures[key] for key in sorted(figures)]


async def stored_service_days(
    session: AsyncSession,
    *,
    since: date,
    until: date,
    point_ids: Sequence[int] | None = None,
) -> list[DayFigures]:
    """Figures kept in `service_days` (purged days) from `since` to `until`, both included."""
    query = select(ServiceDay).where(ServiceDay.day >= since, ServiceDay.day <= until)
    if point_ids is not None:
        query = query.where(ServiceDay.point_id.in_(point_ids))
    rows = (await session.scalars(query.order_by(ServiceDay.day, ServiceDay.point_id))).all()
    return [
        DayFigures(
            day=row.day,
            point_id=row.point_id,
            sessions=row.sessions,
            devices=row.devices,
            seconds=row.seconds,
            input_bytes=row.input_bytes,
            output_bytes=row.output_bytes,
            logins=row.logins,
        )
        for row in rows
    ]

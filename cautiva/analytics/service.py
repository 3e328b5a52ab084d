"""Service figures for the dashboard: sessions, devices, time and data, uptime, funnel, media.

Figures are per point, municipality or department over a period, with a total. Raw days are
counted from sessions and grants (`raw_service_days`), purged days read from `service_days`;
the two never overlap. Every count comes back suppressed under the threshold (None), and the
time online and data volume of a row are hidden with its sessions. Rows are in name order, so
their order says nothing about hidden counts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.analytics.scope import Period, Scope
from cautiva.analytics.service_days import DayFigures, raw_service_days, stored_service_days
from cautiva.analytics.suppression import suppress, suppress_one
from cautiva.models import AccountingSession, Point, PointSeenHour, PortalCounter

UNSET = "—"
"""The key of a group whose place is not recorded."""

TOTAL_KEY = "total"
WEEKLY_BEYOND = 62
"""Timelines of longer periods count per ISO week instead of per day."""

FUNNEL_EVENTS: tuple[str, ...] = (
    "splash_opened",
    "consent",
    "survey_done",
    "message_shown",
    "login_sent",
)
LOGIN_ACCEPTED = "login_accepted"
MEDIA_EVENTS: tuple[str, ...] = ("message_shown", "video_started", "video_finished")

_HOUR = timedelta(hours=1)


class Grouping(StrEnum):
    """What one row of the service table stands for."""

    POINT = "point"
    MUNICIPALITY = "municipality"
    DEPARTMENT = "department"


@dataclass(frozen=True, slots=True)
class ServiceRow:
    """One group's service figures, suppressed."""

    key: str
    label: str
    points: int
    sessions: int | None
    devices: int | None
    hours_online: float | None
    gigabytes: float | None
    logins: int | None
    uptime: float | None


@dataclass(frozen=True, slots=True)
class ServiceFigures:
    """The service dashboard's figures for a period and scope, suppressed."""

    period: Period
    scope: Scope
    threshold: int
    grouping: Grouping
    rows: tuple[ServiceRow, ...]
    total: ServiceRow
    timeline: tuple[tuple[date, int | None], ...]
    funnel: tuple[tuple[str, int | None], ...]
    media: tuple[tuple[str, int | None], ...]


@dataclass(frozen=True, slots=True)
class _PointInfo:
    id: int
    nas_id: str
    name: str
    department: str | None
    municipality: str | None
    created_at: datetime
    retired_at: datetime | None


@dataclass(slots=True)
class _Sums:
    points: int = 0
    sessions: int = 0
    devices: int = 0
    seconds: int = 0
    bytes: int = 0
    logins: int = 0
    seen_hours: int = 0
    possible_hours: int = 0

    def add(self, day: DayFigures) -> None:
        self.sessions += day.sessions
        self.seconds += day.seconds
        self.bytes += day.input_bytes + day.output_bytes
        self.logins += day.logins

    @property
    def uptime(self) -> float | None:
        return self.seen_hours / self.possible_hours if self.possible_hours else None


def _group_of(point: _PointInfo, grouping: Grouping) -> tuple[str, str]:
    """(key, label) of the group a point falls in."""
    if grouping is Grouping.POINT:
        return point.nas_id, point.name
    if grouping is Grouping.DEPARTMENT:
        name = point.department or UNSET
        return name, name
    municipality = point.municipality or UNSET
    label = f"{municipality}, {point.department}" if point.department else municipality
    return municipality, label


def _group_columns(grouping: Grouping) -> list[Any]:
    if grouping is Grouping.POINT:
        return [Point.id]
    if grouping is Grouping.DEPARTMENT:
        return [Point.department]
    return [Point.department, Point.municipality]


def _device_key(point: _PointInfo, grouping: Grouping) -> tuple[Any, ...]:
    """The point's values of `_group_columns(grouping)`."""
    if grouping is Grouping.POINT:
        return (point.id,)
    if grouping is Grouping.DEPARTMENT:
        return (point.department,)
    return (point.department, point.municipality)


def _floor_hour(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def bucket_of(day: date, period: Period) -> date:
    """The timeline bucket of `day`: itself, or its ISO week's Monday for long periods."""
    if len(period.days()) <= WEEKLY_BEYOND:
        return day
    return day - timedelta(days=day.weekday())


def buckets(period: Period) -> list[date]:
    """Every timeline bucket of the period, in order."""
    return sorted({bucket_of(day, period) for day in period.days()})


async def _points(session: AsyncSession, scope: Scope) -> list[_PointInfo]:
    query = select(
        Point.id,
        Point.nas_id,
        Point.name,
        Point.department,
        Point.municipality,
        Point.created_at,
        Point.retired_at,
    ).where(*scope.conditions())
    return [_PointInfo(*row) for row in (await session.execute(query)).all()]


async def _distinct_devices(
    session: AsyncSession, *, period: Period, scope: Scope, grouping: Grouping
) -> tuple[dict[tuple[Any, ...], int], int]:
    """Distinct device MACs over the raw days of the period: per group, and in all."""
    s = AccountingSession
    when = func.coalesce(s.started_at, s.updated_at)
    where = [when >= period.start, when < period.end, *scope.conditions()]
    columns = _group_columns(grouping)
    per_group = (
        select(*columns, func.count(func.distinct(s.mac)))
        .join(Point, Point.id == s.point_id)
        .where(*where)
        .group_by(*columns)
    )
    groups = {tuple(row[:-1]): int(row[-1]) for row in (await session.execute(per_group)).all()}
    overall = (
        select(func.count(func.distinct(s.mac))).join(Point, Point.id == s.point_id).where(*where)
    )
    return groups, int(await session.scalar(overall) or 0)


async def _seen_hours(
    session: AsyncSession, *, period: Period, scope: Scope, now: datetime
) -> dict[int, tuple[int, datetime]]:
    """Per point: hours seen in the period (up to now, until retired) and the first of them."""
    h = PointSeenHour
    query = (
        select(h.point_id, func.count(), func.min(h.hour))
        .join(Point, Point.id == h.point_id)
        .where(
            h.hour >= period.start,
            h.hour < period.end,
            h.hour <= now,
            or_(Point.retired_at.is_(None), h.hour <= Point.retired_at),
            *scope.conditions(),
        )
        .group_by(h.point_id)
    )
    found: dict[int, tuple[int, datetime]] = {}
    for point_id, count, first in (await session.execute(query)).all():
        # SQLite returns min() of the column as text, not through the column's type.
        if not isinstance(first, datetime):
            first = datetime.fromisoformat(str(first))
        found[point_id] = (int(count), first if first.tzinfo else first.replace(tzinfo=UTC))
    return found


def _possible_hours(
    point: _PointInfo, *, period: Period, now: datetime, first_seen: datetime | None
) -> int:
    """The hours of the period in which the point existed, up to the current hour."""
    born = _floor_hour(point.created_at)
    if first_seen is not None:
        # A router heard before its point was recorded (an import) existed then already.
        born = min(born, first_seen)
    start = max(period.start, born)
    end = min(period.end, _floor_hour(now) + _HOUR)
    if point.retired_at is not None:
        end = min(end, _floor_hour(point.retired_at) + _HOUR)
    return max(0, int((end - start) / _HOUR))


async def _portal_counts(
    session: AsyncSession, *, period: Period, scope: Scope, events: Iterable[str]
) -> dict[str, int]:
    query = (
        select(PortalCounter.event, func.sum(PortalCounter.count))
        .join(Point, Point.id == PortalCounter.point_id)
        .where(
            PortalCounter.day >= period.since,
            PortalCounter.day <= period.until,
            PortalCounter.event.in_(list(events)),
            *scope.conditions(),
        )
        .group_by(PortalCounter.event)
    )
    return {event: int(total or 0) for event, total in (await session.execute(query)).all()}


def _existed(point: _PointInfo, period: Period) -> bool:
    return point.created_at < period.end and (
        point.retired_at is None or point.retired_at >= period.start
    )


def _rows(groups: Mapping[tuple[str, str], _Sums], threshold: int) -> list[ServiceRow]:
    order = sorted(groups, key=lambda group: (group[1].casefold(), group[0]))
    hidden = {
        name: suppress({group: getattr(groups[group], name) for group in order}, threshold)
        for name in ("sessions", "devices", "logins")
    }
    rows = []
    for group in order:
        sums = groups[group]
        sessions = hidden["sessions"][group]
        rows.append(
            ServiceRow(
                key=group[0],
                label=group[1],
                points=sums.points,
                sessions=sessions,
                devices=hidden["devices"][group],
                hours_online=None if sessions is None else round(sums.seconds / 3600, 1),
                gigabytes=None if sessions is None else round(sums.bytes / 1e9, 3),
                logins=hidden["logins"][group],
                uptime=sums.uptime,
            )
        )
    return rows


def _total_row(total: _Sums, threshold: int) -> ServiceRow:
    sessions = suppress_one(total.sessions, threshold)
    return ServiceRow(
        key=TOTAL_KEY,
        label="Total",
        points=total.points,
        sessions=sessions,
        devices=suppress_one(total.devices, threshold),
        hours_online=None if sessions is None else round(total.seconds / 3600, 1),
        gigabytes=None if sessions is None else round(total.bytes / 1e9, 3),
        logins=suppress_one(total.logins, threshold),
        uptime=total.uptime,
    )


def _timeline(
    days: Sequence[DayFigures], period: Period, threshold: int
) -> tuple[tuple[date, int | None], ...]:
    counts = dict.fromkeys(buckets(period), 0)
    for day in days:
        if period.since <= day.day <= period.until:
            counts[bucket_of(day.day, period)] += day.sessions
    # The total of sessions is shown too: a lone hidden day would be the difference.
    shown = suppress(counts, threshold)
    return tuple((bucket, shown[bucket]) for bucket in counts)


async def service_figures(
    session: AsyncSession,
    *,
    period: Period,
    scope: Scope,
    grouping: Grouping,
    threshold: int,
    now: datetime,
) -> ServiceFigures:
    """The service dashboard's figures over `period` for the points in `scope`, suppressed."""
    points = {point.id: point for point in await _points(session, scope)}
    ids = None if not scope.conditions() else sorted(points)
    raw = await raw_service_days(session, start=period.start, end=period.end, point_ids=ids)
    stored = await stored_service_days(
        session, since=period.since, until=period.until, point_ids=ids
    )
    days = [day for day in (*raw, *stored) if day.point_id in points]
    devices, devices_overall = await _distinct_devices(
        session, period=period, scope=scope, grouping=grouping
    )
    seen = await _seen_hours(session, period=period, scope=scope, now=now)

    active = {day.point_id for day in days} | set(seen)
    groups: dict[tuple[str, str], _Sums] = defaultdict(_Sums)
    group_of_point: dict[int, tuple[str, str]] = {}
    device_keys: dict[tuple[str, str], set[tuple[Any, ...]]] = defaultdict(set)
    total = _Sums(devices=devices_overall)
    for point in points.values():
        if point.id not in active and not _existed(point, period):
            continue
        group = _group_of(point, grouping)
        group_of_point[point.id] = group
        device_keys[group].add(_device_key(point, grouping))
        seen_hours, first_seen = seen.get(point.id, (0, None))
        possible = _possible_hours(point, period=period, now=now, first_seen=first_seen)
        for sums in (groups[group], total):
            sums.points += 1
            sums.seen_hours += seen_hours
            sums.possible_hours += possible
    for group, keys in device_keys.items():
        groups[group].devices = sum(devices.get(key, 0) for key in keys)
    for day in days:
        group = group_of_point[day.point_id]
        for sums in (groups[group], total):
            sums.add(day)
    for day in stored:
        if day.point_id in group_of_point:
            # Purged days keep per-day distinct devices only: their sum is the best there is.
            groups[group_of_point[day.point_id]].devices += day.devices
            total.devices += day.devices

    rows = _rows(groups, threshold)
    portal = await _portal_counts(
        session, period=period, scope=scope, events={*FUNNEL_EVENTS, *MEDIA_EVENTS}
    )
    funnel = [(event, suppress_one(portal.get(event, 0), threshold)) for event in FUNNEL_EVENTS]
    funnel.append((LOGIN_ACCEPTED, suppress_one(total.logins, threshold)))
    media = [(event, suppress_one(portal.get(event, 0), threshold)) for event in MEDIA_EVENTS]
    return ServiceFigures(
        period=period,
        scope=scope,
        threshold=threshold,
        grouping=grouping,
        rows=tuple(rows),
        total=_total_row(total, threshold),
        timeline=_timeline(days, period, threshold),
        funnel=tuple(funnel),
        media=tuple(media),
    )

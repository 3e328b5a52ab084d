"""Point status for technicians, heartbeats, moves and retirement. Flushes, never commits.

A point counts as online when its router was heard from within `offline_after` seconds: a
heartbeat (the router's own cron job), a RADIUS Status-Server, or accounting for any session.

Heartbeats and Status-Server also mark the hour as seen (`point_seen_hours`), which uptime is
counted from. Accounting is a sign of life too but marks nothing: it is the RADIUS hot path,
and a session keeps only its last `updated_at`, so its hours cannot be recovered later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.database import upsert_insert
from cautiva.errors import InvalidInput
from cautiva.models import (
    AccountingSession,
    Grant,
    Point,
    PointLocation,
    PointSeenHour,
    PointStatus,
    PortalCounter,
    Response,
)

MAX_UPTIME = 10 * 365 * 86400


@dataclass(frozen=True, slots=True)
class Location:
    """Where a point stands (all optional: a technician may know only the municipality)."""

    department: str | None = None
    municipality: str | None = None
    site_type: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, slots=True)
class PointOverview:
    """One line of the technicians' overview."""

    id: int
    nas_id: str
    name: str
    nas_type: str
    active: bool
    department: str | None
    municipality: str | None
    online: bool
    last_seen_at: datetime | None
    uptime_seconds: int | None
    load_1m: float | None
    sessions_open: int
    sessions_today: int
    splash_opened_today: int
    surveys_today: int
    logins_today: int

    @property
    def completion_rate(self) -> float | None:
        """Share of splash openings today that ended in a survey (None before any opening)."""
        if not self.splash_opened_today:
            return None
        return min(1.0, self.surveys_today / self.splash_opened_today)


def check_location(location: Location) -> Location:
    """The location if its coordinates are plausible, else InvalidInput."""
    if location.latitude is not None and not -90 <= location.latitude <= 90:
        raise InvalidInput("latitude must be between -90 and 90")
    if location.longitude is not None and not -180 <= location.longitude <= 180:
        raise InvalidInput("longitude must be between -180 and 180")
    return location


def _hour(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


async def mark_seen(session: AsyncSession, *, seen: Mapping[int, datetime]) -> None:
    """Mark the UTC hour of each `{point_id: when}` as seen, in one statement (known hours stay)."""
    rows = sorted({(point_id, _hour(when)) for point_id, when in seen.items()})
    if not rows:
        return
    statement = upsert_insert(session, PointSeenHour)
    values = [{"point_id": point_id, "hour": hour} for point_id, hour in rows]
    await session.execute(statement.values(values).on_conflict_do_nothing())


async def record_heartbeat(
    session: AsyncSession, *, point: Point, uptime: int, load: float, now: datetime
) -> None:
    """Remember the router's latest heartbeat."""
    if not 0 <= uptime <= MAX_UPTIME:
        raise InvalidInput("uptime must be a number of seconds")
    if not 0 <= load < 1000:
        raise InvalidInput("load must be a load average")
    status = await session.get(PointStatus, point.id)
    if status is None:
        session.add(
            PointStatus(point_id=point.id, heartbeat_at=now, uptime_seconds=uptime, load_1m=load)
        )
    else:
        status.heartbeat_at, status.uptime_seconds, status.load_1m = now, uptime, load
    await mark_seen(session, seen={point.id: now})
    await session.flush()


async def record_status_server(session: AsyncSession, *, seen: Mapping[int, datetime]) -> None:
    """Remember when each point last sent a Status-Server (`{point_id: when}`)."""
    for point_id, when in sorted(seen.items()):
        status = await session.get(PointStatus, point_id)
        if status is None:
            session.add(PointStatus(point_id=point_id, status_server_at=when))
        elif status.status_server_at is None or status.status_server_at < when:
            status.status_server_at = when
    await mark_seen(session, seen=seen)
    await session.flush()


async def relocate(
    session: AsyncSession, *, point: Point, to: Location, moved_by: str, now: datetime
) -> PointLocation:
    """Move a point: close its current place, open the new one, keep the history."""
    check_location(to)
    current = await session.scalar(
        select(PointLocation).where(
            PointLocation.point_id == point.id, PointLocation.valid_to.is_(None)
        )
    )
    if current is None:
        # The place the point had before locations were recorded, from its own fields.
        session.add(
            PointLocation(
                point_id=point.id,
                department=point.department,
                municipality=point.municipality,
                site_type=point.site_type,
                latitude=point.latitude,
                longitude=point.longitude,
                valid_from=point.created_at,
                valid_to=now,
                moved_by="",
            )
        )
    else:
        current.valid_to = now
    row = PointLocation(
        point_id=point.id,
        department=to.department,
        municipality=to.municipality,
        site_type=to.site_type,
        latitude=to.latitude,
        longitude=to.longitude,
        valid_from=now,
        valid_to=None,
        moved_by=moved_by,
    )
    session.add(row)
    point.department, point.municipality, point.site_type = (
        to.department,
        to.municipality,
        to.site_type,
    )
    point.latitude, point.longitude = to.latitude, to.longitude
    await session.flush()
    return row


async def locations(session: AsyncSession, *, point_id: int) -> Sequence[PointLocation]:
    """The places a point has stood, oldest first."""
    query = (
        select(PointLocation)
        .where(PointLocation.point_id == point_id)
        .order_by(PointLocation.valid_from, PointLocation.id)
    )
    return (await session.scalars(query)).all()


async def retire(session: AsyncSession, *, point: Point, now: datetime) -> None:
    """Take a point out of service: no new logins, no splash form; its history stays."""
    point.active = False
    point.retired_at = now
    await session.flush()


def _day_start(now: datetime) -> datetime:
    return datetime(now.year, now.month, now.day, tzinfo=UTC)


async def overview(
    session: AsyncSession, *, now: datetime, offline_after: int, point_ids: Sequence[int] = ()
) -> list[PointOverview]:
    """Every point (or those in `point_ids`) with its live status and today's figures."""
    day = _day_start(now)
    points_query = select(Point).order_by(Point.name, Point.id)
    if point_ids:
        points_query = points_query.where(Point.id.in_(point_ids))
    points = (await session.scalars(points_query)).all()

    async def counts(query: Select[int, Any]) -> dict[int, int]:
        return {point_id: int(value or 0) for point_id, value in await session.execute(query)}

    session_rows = AccountingSession
    heard_query = select(session_rows.point_id, func.max(session_rows.updated_at)).group_by(
        session_rows.point_id
    )
    heard: dict[int, datetime] = {
        point_id: value for point_id, value in await session.execute(heard_query) if value
    }
    open_now = await counts(
        select(session_rows.point_id, func.count())
        .where(session_rows.stopped_at.is_(None))
        .group_by(session_rows.point_id)
    )
    started_today = await counts(
        select(session_rows.point_id, func.count())
        .where(session_rows.started_at >= day)
        .group_by(session_rows.point_id)
    )
    surveys = await counts(
        select(Response.point_id, func.count())
        .where(Response.created_at >= day)
        .group_by(Response.point_id)
    )
    logins = await counts(
        select(Grant.point_id, func.count())
        .where(Grant.first_login_at >= day)
        .group_by(Grant.point_id)
    )
    opened = await counts(
        select(PortalCounter.point_id, func.sum(PortalCounter.count))
        .where(PortalCounter.day == day.date(), PortalCounter.event == "splash_opened")
        .group_by(PortalCounter.point_id)
    )
    statuses = {s.point_id: s for s in (await session.scalars(select(PointStatus))).all()}
    result = []
    for point in points:
        status = statuses.get(point.id)
        signs = (
            status.heartbeat_at if status else None,
            status.status_server_at if status else None,
            heard.get(point.id),
        )
        seen = [t for t in signs if t]
        last_seen = max(seen) if seen else None
        online = last_seen is not None and now - last_seen <= timedelta(seconds=offline_after)
        result.append(
            PointOverview(
                id=point.id,
                nas_id=point.nas_id,
                name=point.name,
                nas_type=point.nas_type,
                active=point.active,
                department=point.department,
                municipality=point.municipality,
                online=bool(online and point.active),
                last_seen_at=last_seen,
                uptime_seconds=status.uptime_seconds if status else None,
                load_1m=status.load_1m if status else None,
                sessions_open=open_now.get(point.id, 0),
                sessions_today=started_today.get(point.id, 0),
                splash_opened_today=opened.get(point.id, 0),
                surveys_today=surveys.get(point.id, 0),
                logins_today=logins.get(point.id, 0),
            )
        )
    return result

"""Queries for the purge: what old raw data is still in use, and deleting or unlinking the rest."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from cautiva.analytics.scope import utc_day
from cautiva.analytics.service_days import DayFigures
from cautiva.database import upsert_insert
from cautiva.models import AccountingSession, Grant, Response, ServiceDay

_FIGURES = ("sessions", "devices", "seconds", "input_bytes", "output_bytes", "logins")

Pair = tuple[date, int]
"""A (UTC day, point id): the unit the purge stores and deletes whole."""


def _session_time() -> ColumnElement[datetime]:
    # The instant a session is counted at, as `raw_service_days` counts it.
    return func.coalesce(AccountingSession.started_at, AccountingSession.updated_at)


def _day(value: object) -> date:
    # SQLite returns date() as text; PostgreSQL as a date.
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


class RetentionRepository:
    """All database access for the purge."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open_sessions(self, *, start: datetime | None, end: datetime) -> dict[Pair, int]:
        """Open sessions counted in [start, end), how many per (day, point)."""
        s = AccountingSession
        day = utc_day(_session_time())
        query = (
            select(day, s.point_id, func.count())
            .where(_session_time() < end, s.stopped_at.is_(None))
            .group_by(day, s.point_id)
        )
        if start is not None:
            query = query.where(_session_time() >= start)
        rows = (await self.session.execute(query)).all()
        return {(_day(raw), point_id): int(count) for raw, point_id, count in rows}

    async def busy_login_pairs(
        self, *, before: datetime, now: datetime, reusable_since: datetime
    ) -> set[Pair]:
        """Where grants first used before `before` must stay, being still of use or in use.

        Of use: its login window is open, or it was first used from `reusable_since` on (a
        used grant may reconnect for a while). In use: a session that stays refers to it (an
        open one, or one counted from `before` on).
        """
        g, s = Grant, AccountingSession
        still_used = exists().where(
            s.grant_id == g.id, or_(s.stopped_at.is_(None), _session_time() >= before)
        )
        day = utc_day(g.first_login_at)
        query = (
            select(day, g.point_id)
            .where(
                g.first_login_at < before,
                or_(g.login_deadline >= now, g.first_login_at >= reusable_since, still_used),
            )
            .distinct()
        )
        return {(_day(raw), point_id) for raw, point_id in (await self.session.execute(query))}

    async def links(self, *, before: datetime) -> list[tuple[Pair, Pair]]:
        """Old sessions counted on another (day, point) than their grant's login: both pairs."""
        s, g = AccountingSession, Grant
        session_day, login_day = utc_day(_session_time()), utc_day(g.first_login_at)
        query = (
            select(session_day, s.point_id, login_day, g.point_id)
            .join(g, g.id == s.grant_id)
            .where(
                _session_time() < before,
                g.first_login_at < before,
                or_(session_day != login_day, s.point_id != g.point_id),
            )
            .distinct()
        )
        return [
            ((_day(s_day), s_point), (_day(g_day), g_point))
            for s_day, s_point, g_day, g_point in (await self.session.execute(query))
        ]

    def _unused_grants(self, *, before: datetime, now: datetime) -> list[ColumnElement[bool]]:
        # Never used, its login window over, and no session names it.
        g, s = Grant, AccountingSession
        return [
            g.first_login_at.is_(None),
            g.issued_at < before,
            g.login_deadline < now,
            ~exists().where(s.grant_id == g.id),
        ]

    async def count_unused_grants(self, *, before: datetime, now: datetime) -> int:
        """How many grants issued before `before` were never used and can go."""
        query = select(func.count()).select_from(Grant)
        query = query.where(*self._unused_grants(before=before, now=now))
        return int((await self.session.execute(query)).scalar_one())

    async def count_old_grants(self, *, before: datetime) -> int:
        """How many grants were issued before `before`."""
        query = select(func.count()).select_from(Grant).where(Grant.issued_at < before)
        return int((await self.session.execute(query)).scalar_one())

    async def count_linked_responses(self, *, before: datetime) -> int:
        """How many responses created before `before` still hold a person key or a MAC."""
        query = select(func.count()).select_from(Response).where(*_linked(before))
        return int((await self.session.execute(query)).scalar_one())

    async def add_service_days(self, figures: Sequence[DayFigures]) -> None:
        """Store the figures of purged days, adding them to a row already there."""
        if not figures:
            return
        statement = upsert_insert(self.session, ServiceDay)
        excluded = statement.excluded
        # A row is there only if raw data of that day came in after an earlier purge (a late
        # accounting record): the figures of what is deleted now add to it.
        statement = statement.on_conflict_do_update(
            index_elements=[ServiceDay.day, ServiceDay.point_id],
            set_={name: getattr(ServiceDay, name) + getattr(excluded, name) for name in _FIGURES},
        )
        await self.session.execute(
            statement,
            [
                {"day": f.day, "point_id": f.point_id} | {n: getattr(f, n) for n in _FIGURES}
                for f in figures
            ],
        )

    async def delete_sessions(
        self, *, start: datetime, end: datetime, point_ids: Collection[int]
    ) -> int:
        """Delete the stopped sessions counted in [start, end) at these points; return how many."""
        s = AccountingSession
        connection = await self.session.connection()
        result = await connection.execute(
            delete(s).where(
                _session_time() >= start,
                _session_time() < end,
                s.point_id.in_(list(point_ids)),
                s.stopped_at.is_not(None),
            )
        )
        return int(result.rowcount)

    async def delete_logins(
        self,
        *,
        start: datetime,
        end: datetime,
        point_ids: Collection[int],
        now: datetime,
        reusable_since: datetime,
    ) -> int:
        """Delete the grants first used in [start, end) at these points, unless still needed."""
        g, s = Grant, AccountingSession
        connection = await self.session.connection()
        result = await connection.execute(
            delete(g).where(
                g.first_login_at >= start,
                g.first_login_at < end,
                g.point_id.in_(list(point_ids)),
                g.login_deadline < now,
                g.first_login_at < reusable_since,
                ~exists().where(s.grant_id == g.id, s.stopped_at.is_(None)),
            )
        )
        return int(result.rowcount)

    async def delete_unused_grants(self, *, before: datetime, now: datetime, limit: int) -> int:
        """Delete up to `limit` never-used grants issued before `before`; return how many."""
        ids = select(Grant.id).where(*self._unused_grants(before=before, now=now)).limit(limit)
        connection = await self.session.connection()
        result = await connection.execute(delete(Grant).where(Grant.id.in_(ids)))
        return int(result.rowcount)

    async def drop_grant_keys(self, *, before: datetime) -> int:
        """Forget the person key of the grants issued before `before` that stay; return how many."""
        connection = await self.session.connection()
        result = await connection.execute(
            update(Grant)
            .where(Grant.issued_at < before, Grant.person_key.is_not(None))
            .values(person_key=None)
        )
        return int(result.rowcount)

    async def unlink_responses(self, *, before: datetime, limit: int) -> int:
        """Drop the person key and MAC of up to `limit` responses created before `before`."""
        ids = select(Response.id).where(*_linked(before)).limit(limit)
        connection = await self.session.connection()
        result = await connection.execute(
            update(Response).where(Response.id.in_(ids)).values(person_key=None, device_mac=None)
        )
        return int(result.rowcount)


def _linked(before: datetime) -> list[ColumnElement[bool]]:
    return [
        Response.created_at < before,
        or_(Response.person_key.is_not(None), Response.device_mac.is_not(None)),
    ]

"""Queries for population and flow figures: responses in keyset pages, moves between points.

Response rows come back as plain tuples, never ORM objects, so a long period never fills the
session's identity map.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from cautiva.analytics.scope import Period, Scope
from cautiva.models import Point, Response, SurveyForm
from cautiva.models.base import UTCDateTime


def _at_points_in(scope: Scope) -> list[ColumnElement[bool]]:
    conditions = scope.conditions()
    if not conditions:
        return []
    return [Response.point_id.in_(select(Point.id).where(*conditions))]


class AnalyticsRepository:
    """All database access for population and flow figures."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def response_page(
        self, *, period: Period, scope: Scope, after: int, limit: int
    ) -> Sequence[Row[Any]]:
        """Up to `limit` responses (id, created_at, returning_person, answers) after id `after`."""
        query = (
            select(Response.id, Response.created_at, Response.returning_person, Response.answers)
            .where(
                Response.created_at >= period.start,
                Response.created_at < period.end,
                Response.id > after,
                *_at_points_in(scope),
            )
            .order_by(Response.id)
            .limit(limit)
        )
        return (await self.session.execute(query)).all()

    async def forms_newest_first(self) -> Sequence[SurveyForm]:
        """Every published form, the most recently published first."""
        query = select(SurveyForm).order_by(SurveyForm.published_at.desc(), SurveyForm.id.desc())
        return (await self.session.scalars(query)).all()

    def _moves(self, period: Period, scope: Scope) -> Select[Any]:
        """Moves arriving in the period: a response, and the same person's previous one elsewhere.

        The window runs over each person's whole history up to the period's end, so a move
        whose departure precedes the period still counts when its arrival falls inside it.
        Only people with a response in the period are read.
        """
        r = Response
        seen_in_period = select(r.person_key).where(
            r.person_key.is_not(None), r.created_at >= period.start, r.created_at < period.end
        )
        history = (
            select(
                r.person_key,
                r.point_id,
                r.created_at,
                func.lag(r.point_id)
                .over(partition_by=r.person_key, order_by=(r.created_at, r.id))
                .label("origin_id"),
                func.lag(r.created_at, type_=UTCDateTime())
                .over(partition_by=r.person_key, order_by=(r.created_at, r.id))
                .label("left_at"),
            )
            .where(r.created_at < period.end, r.person_key.in_(seen_in_period))
            .subquery()
        )
        conditions = [
            history.c.origin_id.is_not(None),
            history.c.origin_id != history.c.point_id,
            history.c.created_at >= period.start,
        ]
        scoped = scope.conditions()
        if scoped:
            in_scope = select(Point.id).where(*scoped)
            conditions.append(
                or_(history.c.origin_id.in_(in_scope), history.c.point_id.in_(in_scope))
            )
        return select(
            history.c.person_key,
            history.c.origin_id,
            history.c.point_id.label("destination_id"),
            history.c.left_at,
            history.c.created_at.label("arrived_at"),
        ).where(*conditions)

    async def people_moving(self, *, period: Period, scope: Scope) -> int:
        """Distinct person keys with at least one move."""
        moves = self._moves(period, scope).subquery()
        query = select(func.count(func.distinct(moves.c.person_key)))
        return int(await self.session.scalar(query) or 0)

    async def move_times(
        self, *, period: Period, scope: Scope
    ) -> AsyncIterator[tuple[int, int, datetime, datetime]]:
        """Every move's (origin id, destination id, left_at, arrived_at), grouped by pair."""
        moves = self._moves(period, scope).subquery()
        query = select(
            moves.c.origin_id, moves.c.destination_id, moves.c.left_at, moves.c.arrived_at
        ).order_by(moves.c.origin_id, moves.c.destination_id)
        result = await self.session.stream(query.execution_options(yield_per=1000))
        async for origin_id, destination_id, left_at, arrived_at in result:
            yield origin_id, destination_id, left_at, arrived_at

    async def points(self, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
        """(nas id, name) of each point id."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        query = select(Point.id, Point.nas_id, Point.name).where(Point.id.in_(wanted))
        return {pid: (nas, name) for pid, nas, name in (await self.session.execute(query)).all()}

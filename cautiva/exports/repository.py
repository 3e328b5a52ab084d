"""Queries for exports: which forms a range of responses uses, and keyset pages of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from cautiva.models import Point, Response, SurveyForm


@dataclass(frozen=True, slots=True)
class ResponseFilter:
    """Which responses an export holds: created in [start, end), at one point or any."""

    start: datetime | None = None
    end: datetime | None = None
    point_id: int | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """The WHERE conditions on `responses` for this filter."""
        conditions: list[ColumnElement[bool]] = []
        if self.start is not None:
            conditions.append(Response.created_at >= self.start)
        if self.end is not None:
            conditions.append(Response.created_at < self.end)
        if self.point_id is not None:
            conditions.append(Response.point_id == self.point_id)
        return conditions


class ExportRepository:
    """All database access for exports; rows come back as plain tuples, never ORM objects."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def forms_used(self, where: ResponseFilter) -> tuple[Sequence[SurveyForm], int | None]:
        """Return the published forms the matching responses name (by id) and the last id."""
        used = (
            select(Response.survey_form_id, func.max(Response.id).label("last_id"))
            .where(*where.conditions())
            .group_by(Response.survey_form_id)
        )
        pairs = (await self.session.execute(used)).all()
        if not pairs:
            return [], None
        ids = [pair.survey_form_id for pair in pairs]
        result = await self.session.execute(
            select(SurveyForm).where(SurveyForm.id.in_(ids)).order_by(SurveyForm.id)
        )
        return result.scalars().all(), max(pair.last_id for pair in pairs)

    async def page(
        self, where: ResponseFilter, *, after: int, last_id: int, limit: int
    ) -> Sequence[Row[Any]]:
        """Return up to `limit` matching responses with after < id <= last_id, by id."""
        query = (
            select(
                Response.id,
                Response.created_at,
                Response.form_id,
                Response.version,
                Response.lang,
                Response.returning_person,
                Response.person_key,
                Response.answers,
                Point.nas_id,
                Point.name,
                Point.department,
                Point.municipality,
            )
            .join(Point, Point.id == Response.point_id)
            .where(*where.conditions(), Response.id > after, Response.id <= last_id)
            .order_by(Response.id)
            .limit(limit)
        )
        return (await self.session.execute(query)).all()

    async def answer_page(
        self, where: ResponseFilter, *, after: int, limit: int
    ) -> Sequence[Row[Any]]:
        """Return up to `limit` matching responses with id > after, by id: point, time, answers."""
        query = (
            select(Response.id, Response.point_id, Response.created_at, Response.answers)
            .where(*where.conditions(), Response.id > after)
            .order_by(Response.id)
            .limit(limit)
        )
        return (await self.session.execute(query)).all()

    async def places(self) -> Sequence[Row[int, str, str, str | None, str | None]]:
        """Return every point's id, NAS-Identifier, name, department and municipality."""
        query = select(Point.id, Point.nas_id, Point.name, Point.department, Point.municipality)
        return (await self.session.execute(query)).all()

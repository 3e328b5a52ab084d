"""Queries on the portal texts operators stored."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.models import Point, PortalText


class PortalTextRepository:
    """All database access for portal texts."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, *, key: str, lang: str, point_id: int | None) -> PortalText | None:
        """Return the text stored for exactly this point (None: every point), or None."""
        where: ColumnElement[bool] = PortalText.point_id.is_(None)
        if point_id is not None:
            where = PortalText.point_id == point_id
        result = await self.session.execute(
            select(PortalText).where(PortalText.key == key, PortalText.lang == lang, where)
        )
        return result.scalar_one_or_none()

    async def candidates(
        self, *, key: str, lang: str, point_id: int | None
    ) -> Sequence[PortalText]:
        """Return the texts that could apply at a point: its own and the global one (one query)."""
        where: ColumnElement[bool] = PortalText.point_id.is_(None)
        if point_id is not None:
            where = or_(where, PortalText.point_id == point_id)
        result = await self.session.execute(
            select(PortalText).where(PortalText.key == key, PortalText.lang == lang, where)
        )
        return result.scalars().all()

    async def add(self, row: PortalText) -> PortalText:
        """Add a new text and flush it so it gets its id."""
        self.session.add(row)
        await self.session.flush()
        return row

    async def list(self) -> list[tuple[PortalText, str | None]]:
        """Return every stored text with its point's NAS-Identifier, global texts first."""
        result = await self.session.execute(
            select(PortalText, Point.nas_id)
            .outerjoin(Point, Point.id == PortalText.point_id)
            .order_by(
                PortalText.key,
                PortalText.lang,
                PortalText.point_id.is_not(None),
                Point.nas_id,
            )
        )
        return [(text, nas_id) for text, nas_id in result.all()]

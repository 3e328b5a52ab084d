"""Queries on points."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.models import Point


class PointRepository:
    """All database access for points."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, point_id: int) -> Point | None:
        """Return the point with this id, or None."""
        return await self.session.get(Point, point_id)

    async def get_by_nas_id(self, nas_id: str) -> Point | None:
        """Return the point with this NAS-Identifier, or None."""
        result = await self.session.execute(select(Point).where(Point.nas_id == nas_id))
        return result.scalar_one_or_none()

    async def get_by_fixed_address(self, address: str) -> Point | None:
        """Return the point bound to this source address, or None (also when several are)."""
        result = await self.session.execute(select(Point).where(Point.fixed_address == address))
        points = result.scalars().all()
        return points[0] if len(points) == 1 else None

    async def list(self, *, include_retired: bool = True) -> Sequence[Point]:
        """Return points ordered by name."""
        query = select(Point).order_by(Point.name, Point.id)
        if not include_retired:
            query = query.where(Point.active.is_(True))
        return (await self.session.execute(query)).scalars().all()

    async def add(self, point: Point) -> Point:
        """Add a new point and flush it so it gets its id."""
        self.session.add(point)
        await self.session.flush()
        return point

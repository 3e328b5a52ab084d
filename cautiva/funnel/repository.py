"""Queries on the daily portal counters."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.database import upsert_insert
from cautiva.models import PortalCounter


class PortalCounterRepository:
    """All database access for portal counters."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def increment(self, *, day: date, point_id: int, event: str, by: int = 1) -> None:
        """Add `by` to one counter in a single statement, creating it at `by` if it is new."""
        statement = upsert_insert(self.session, PortalCounter)
        statement = statement.values(day=day, point_id=point_id, event=event, count=by)
        # The row lock the conflict takes makes concurrent increments add up, never overwrite.
        statement = statement.on_conflict_do_update(
            index_elements=[PortalCounter.day, PortalCounter.point_id, PortalCounter.event],
            set_={"count": PortalCounter.count + statement.excluded.count},
        )
        await self.session.execute(statement)

    async def totals(self, *, point_id: int | None, since: date, until: date) -> dict[str, int]:
        """Return each event's total from `since` to `until` (both included), at a point or all."""
        query = (
            select(PortalCounter.event, func.sum(PortalCounter.count))
            .where(PortalCounter.day >= since, PortalCounter.day <= until)
            .group_by(PortalCounter.event)
        )
        if point_id is not None:
            query = query.where(PortalCounter.point_id == point_id)
        result = await self.session.execute(query)
        return {event: int(total) for event, total in result.all()}

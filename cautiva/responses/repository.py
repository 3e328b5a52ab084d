"""Queries on survey responses."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.models import Response


class ResponseRepository:
    """All database access for responses."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def any_since(self, person_key: str, since: datetime) -> bool:
        """Return True when this person sent a response at `since` or later, at any point."""
        query = select(
            exists().where(Response.person_key == person_key, Response.created_at >= since)
        )
        return bool((await self.session.execute(query)).scalar())

    async def recent_from_device(
        self, *, point_id: int, mac: str, person_key: str, since: datetime
    ) -> Sequence[Response]:
        """Return this person's responses from this device at this point since `since`, newest
        first."""
        result = await self.session.execute(
            select(Response)
            .where(
                Response.point_id == point_id,
                Response.created_at >= since,
                Response.device_mac == mac,
                Response.person_key == person_key,
            )
            .order_by(Response.created_at.desc(), Response.id.desc())
        )
        return result.scalars().all()

    async def add(self, response: Response) -> Response:
        """Add a response and flush it so it gets its id."""
        self.session.add(response)
        await self.session.flush()
        return response

"""Queries on the open sessions of a point."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.models import AccountingSession

_SESSIONS = AccountingSession


class OpenSessionRepository:
    """Lookups of a point's running sessions (the partial index `ix_sessions_open` serves them)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def is_open(self, *, point_id: int, username: str) -> bool:
        """Return True when `username` has a session open at the point."""
        query = select(_SESSIONS.id).where(_open_at(point_id), _SESSIONS.username == username)
        result = await (await self.session.connection()).execute(query.limit(1))
        return result.first() is not None

    async def username_at_address(self, *, point_id: int, address: str) -> str | None:
        """Return the user of the newest open session at the point with this Framed-IP-Address."""
        # A stale row (a lost Stop, an address the router's DHCP gave out again) may still be
        # open beside the live one until the sweep closes it: the newest is the live one.
        query = (
            select(_SESSIONS.username)
            .where(_open_at(point_id), _SESSIONS.framed_ip == address)
            .order_by(_SESSIONS.updated_at.desc(), _SESSIONS.id.desc())
            .limit(1)
        )
        result = await (await self.session.connection()).execute(query)
        username: str | None = result.scalar_one_or_none()
        return username


def _open_at(point_id: int) -> ColumnElement[bool]:
    """The condition of a session still open at a point."""
    return and_(_SESSIONS.point_id == point_id, _SESSIONS.stopped_at.is_(None))

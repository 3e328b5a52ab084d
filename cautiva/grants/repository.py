"""Queries on grants and the sessions that used them."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.models import AccountingSession, Grant
from cautiva.policy import SessionUsage


class GrantRepository:
    """All database access for grants."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_all(self, grants: Sequence[Grant]) -> None:
        """Add new grants and flush them so they get ids."""
        self.session.add_all(grants)
        await self.session.flush()

    async def by_usernames(self, usernames: Collection[str]) -> dict[str, Grant]:
        """Return the grants with these usernames, keyed by username."""
        if not usernames:
            return {}
        result = await self.session.execute(select(Grant).where(Grant.username.in_(usernames)))
        return {grant.username: grant for grant in result.scalars()}

    async def usage_by_grant(self, grant_ids: Collection[int]) -> dict[int, list[SessionUsage]]:
        """Return the accounted sessions of these grants, keyed by grant id."""
        usage: dict[int, list[SessionUsage]] = {grant_id: [] for grant_id in grant_ids}
        if not grant_ids:
            return usage
        result = await self.session.execute(
            select(
                AccountingSession.grant_id,
                AccountingSession.session_time,
                AccountingSession.updated_at,
                AccountingSession.stopped_at,
            ).where(AccountingSession.grant_id.in_(grant_ids))
        )
        for grant_id, session_time, updated_at, stopped_at in result.all():
            if grant_id is not None:
                usage[grant_id].append(
                    SessionUsage(session_time, updated_at, stopped=stopped_at is not None)
                )
        return usage

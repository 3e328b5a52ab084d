"""Queries on grants and the sessions that used them."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.models import AccountingSession, Grant
from cautiva.policy import GrantView, SessionUsage

GRANTS: Table = Grant.__table__  # type: ignore[assignment]


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

    async def grant_views(self, usernames: Collection[str]) -> dict[str, GrantView]:
        """Return the policy's view of the grants with these usernames, keyed by username."""
        if not usernames:
            return {}
        result = await self.session.execute(
            select(
                Grant.username,
                Grant.id,
                Grant.point_id,
                Grant.mac,
                Grant.seconds_allowed,
                Grant.login_deadline,
                Grant.first_login_at,
                Grant.revoked_at,
            ).where(Grant.username.in_(usernames))
        )
        return {
            row.username: GrantView(
                id=row.id,
                point_id=row.point_id,
                mac=row.mac,
                seconds_allowed=row.seconds_allowed,
                login_deadline=row.login_deadline,
                first_login_at=row.first_login_at,
                revoked_at=row.revoked_at,
            )
            for row in result.all()
        }

    async def record_logins(self, logins: Sequence[tuple[int, str | None, datetime]]) -> None:
        """Mark first logins: (grant id, MAC to bind, when), in one executemany UPDATE."""
        if not logins:
            return
        statement = (
            update(GRANTS)
            .where(GRANTS.c.id == bindparam("grant_id"))
            .values(mac=bindparam("v_mac"), first_login_at=bindparam("v_at"))
        )
        connection = await self.session.connection()
        await connection.execute(
            statement, [{"grant_id": i, "v_mac": mac, "v_at": at} for i, mac, at in logins]
        )

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

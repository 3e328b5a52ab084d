"""Queries on accounting sessions and disconnects."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.models import AccountingSession, Disconnect, Grant


class AccountingRepository:
    """All database access for accounting sessions and disconnects."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def sessions_by_keys(
        self, keys: Collection[tuple[int, str, str]]
    ) -> dict[tuple[int, str, str], AccountingSession]:
        """Return sessions keyed by (point id, Acct-Session-Id, User-Name)."""
        if not keys:
            return {}
        result = await self.session.execute(
            select(AccountingSession).where(
                AccountingSession.acct_session_id.in_({key[1] for key in keys}),
                AccountingSession.point_id.in_({key[0] for key in keys}),
            )
        )
        found: dict[tuple[int, str, str], AccountingSession] = {}
        for row in result.scalars():
            key = (row.point_id, row.acct_session_id, row.username)
            if key in keys:
                found[key] = row
        return found

    async def grant_ids(self, usernames: Collection[str]) -> dict[str, int]:
        """Return grant ids keyed by username, for those usernames that are grants."""
        if not usernames:
            return {}
        result = await self.session.execute(
            select(Grant.username, Grant.id).where(Grant.username.in_(usernames))
        )
        return {username: grant_id for username, grant_id in result.all()}

    async def grants(self, grant_ids: Collection[int]) -> dict[int, Grant]:
        """Return grants keyed by id."""
        if not grant_ids:
            return {}
        result = await self.session.execute(select(Grant).where(Grant.id.in_(grant_ids)))
        return {grant.id: grant for grant in result.scalars()}

    def add(self, row: AccountingSession) -> None:
        """Stage a new session for the next flush."""
        self.session.add(row)

    async def flush(self) -> None:
        """Send staged changes to the database inside the caller's transaction."""
        await self.session.flush()

    async def close_open_sessions(
        self, *, point_id: int, before: datetime, at: datetime, cause: str
    ) -> int:
        """Stop every open session of a point started before `before`; return how many."""
        result = await self.session.execute(
            update(AccountingSession)
            .where(
                AccountingSession.point_id == point_id,
                AccountingSession.stopped_at.is_(None),
                (AccountingSession.started_at.is_(None)) | (AccountingSession.started_at <= before),
            )
            .values(stopped_at=at, terminate_cause=cause)
            .execution_options(synchronize_session="fetch")
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def open_sessions(
        self, *, grant_ids: Collection[int] | None = None
    ) -> Sequence[AccountingSession]:
        """Return sessions not stopped yet, of these grants when given."""
        query = select(AccountingSession).where(AccountingSession.stopped_at.is_(None))
        if grant_ids is not None:
            if not grant_ids:
                return []
            query = query.where(AccountingSession.grant_id.in_(grant_ids))
        return (await self.session.execute(query)).scalars().all()

    async def get_session(self, session_id: int) -> AccountingSession | None:
        """Return the session with this id, or None."""
        return await self.session.get(AccountingSession, session_id)

    async def sessions_of_point(
        self, *, point_id: int, open_only: bool, limit: int
    ) -> Sequence[AccountingSession]:
        """Return a point's sessions, newest first."""
        query = select(AccountingSession).where(AccountingSession.point_id == point_id)
        if open_only:
            query = query.where(AccountingSession.stopped_at.is_(None))
        query = query.order_by(AccountingSession.updated_at.desc()).limit(limit)
        return (await self.session.execute(query)).scalars().all()

    async def recently_disconnected(
        self, *, session_ids: Collection[int], since: datetime
    ) -> set[int]:
        """Return which of these sessions had a Disconnect-Request sent since `since`."""
        if not session_ids:
            return set()
        result = await self.session.execute(
            select(Disconnect.session_id).where(
                Disconnect.session_id.in_(session_ids), Disconnect.requested_at >= since
            )
        )
        return set(result.scalars())

    async def add_disconnect(self, disconnect: Disconnect) -> Disconnect:
        """Add a disconnect record and flush it so it gets its id."""
        self.session.add(disconnect)
        await self.session.flush()
        return disconnect

    async def get_disconnect(self, disconnect_id: int) -> Disconnect | None:
        """Return the disconnect record with this id, or None."""
        return await self.session.get(Disconnect, disconnect_id)

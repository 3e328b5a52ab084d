"""Queries on accounting sessions and disconnects."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.models import AccountingSession, Disconnect, Grant
from cautiva.models.sessions import ByteCounters

SESSIONS: Table = AccountingSession.__table__  # type: ignore[assignment]
SessionKey = tuple[int, str, str]


@dataclass(slots=True)
class SessionState(ByteCounters):
    """A session row as plain data: accounting merges events into it, then writes it back.

    The hot path works on these instead of ORM objects: a batch is read with one SELECT and
    written with one INSERT and one UPDATE, whatever its size.
    """

    point_id: int
    username: str
    acct_session_id: str
    updated_at: datetime
    grant_id: int | None = None
    mac: str | None = None
    framed_ip: str | None = None
    nas_address: str | None = None
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    session_time: int = 0
    input_octets: int = 0
    output_octets: int = 0
    input_gigawords: int = 0
    output_gigawords: int = 0
    terminate_cause: str | None = None
    interim_interval: int | None = None
    id: int | None = None

    @property
    def key(self) -> SessionKey:
        """(point id, Acct-Session-Id, User-Name)."""
        return (self.point_id, self.acct_session_id, self.username)


_STATE_COLUMNS = [f.name for f in fields(SessionState)]
_WRITE_COLUMNS = [name for name in _STATE_COLUMNS if name != "id"]
# Built once: SQLAlchemy memoizes their cache keys, so the hot path does not re-key them.
_SELECT_STATES = select(*[SESSIONS.c[name] for name in _STATE_COLUMNS]).where(
    SESSIONS.c.acct_session_id.in_(bindparam("session_ids", expanding=True)),
    SESSIONS.c.point_id.in_(bindparam("point_ids", expanding=True)),
)
_INSERT_STATES = insert(SESSIONS).returning(SESSIONS.c.id, sort_by_parameter_order=True)
_UPDATE_STATES = (
    update(SESSIONS)
    .where(SESSIONS.c.id == bindparam("state_id"))
    .values({name: bindparam(f"v_{name}") for name in _WRITE_COLUMNS})
)


class AccountingRepository:
    """All database access for accounting sessions and disconnects."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def session_states(self, keys: Collection[SessionKey]) -> dict[SessionKey, SessionState]:
        """Return the sessions with these keys as plain states."""
        if not keys:
            return {}
        columns = [SESSIONS.c[name] for name in _STATE_COLUMNS]
        result = await (await self.session.connection()).execute(
            select(*columns).where(
                SESSIONS.c.acct_session_id.in_({key[1] for key in keys}),
                SESSIONS.c.point_id.in_({key[0] for key in keys}),
            )
        )
        states: dict[SessionKey, SessionState] = {}
        for row in result.mappings():
            state = SessionState(**row)
            if state.key in keys:
                states[state.key] = state
        return states

    async def insert_states(self, states: Sequence[SessionState]) -> None:
        """Insert new sessions in one statement and give each its id."""
        if not states:
            return
        connection = await self.session.connection()
        result = await connection.execute(
            _INSERT_STATES,
            [{name: getattr(state, name) for name in _WRITE_COLUMNS} for state in states],
        )
        for state, (new_id,) in zip(states, result.all(), strict=True):
            state.id = new_id

    async def update_states(self, states: Sequence[SessionState]) -> None:
        """Write changed sessions back in one executemany UPDATE."""
        if not states:
            return
        connection = await self.session.connection()
        await connection.execute(
            _UPDATE_STATES,
            [
                {"state_id": state.id, **{f"v_{n}": getattr(state, n) for n in _WRITE_COLUMNS}}
                for state in states
            ],
        )

    async def grants(self, grant_ids: Collection[int]) -> dict[int, Grant]:
        """Return grants keyed by id."""
        if not grant_ids:
            return {}
        result = await self.session.execute(select(Grant).where(Grant.id.in_(grant_ids)))
        return {grant.id: grant for grant in result.scalars()}

    async def flush(self) -> None:
        """Send staged changes to the database inside the caller's transaction."""
        await self.session.flush()

    async def close_open_sessions(
        self, *, point_id: int, before: datetime, at: datetime, cause: str
    ) -> int:
        """Stop every open session of a point started before `before`; return how many."""
        connection = await self.session.connection()
        result = await connection.execute(
            update(AccountingSession)
            .where(
                AccountingSession.point_id == point_id,
                AccountingSession.stopped_at.is_(None),
                (AccountingSession.started_at.is_(None)) | (AccountingSession.started_at <= before),
            )
            .values(stopped_at=at, terminate_cause=cause)
        )
        return int(result.rowcount)

    async def open_sessions(self) -> Sequence[AccountingSession]:
        """Return every session not stopped yet."""
        query = select(AccountingSession).where(AccountingSession.stopped_at.is_(None))
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
        result = await (await self.session.connection()).execute(
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

"""Queries on grants and the sessions that used them."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime

from sqlalchemy import Table, bindparam, func, literal_column, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.models import AccountingSession, Grant
from cautiva.models.base import UTCDateTime
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

    async def grant_views(self, usernames: Collection[str]) -> dict[str, GrantView]:
        """Return the policy's view of the grants with these usernames, keyed by username."""
        if not usernames:
            return {}
        connection = await self.session.connection()
        result = await connection.execute(_GRANT_VIEWS, {"usernames": list(usernames)})
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
        connection = await self.session.connection()
        await connection.execute(
            _RECORD_LOGINS, [{"grant_id": i, "v_mac": mac, "v_at": at} for i, mac, at in logins]
        )

    async def usage_by_grant(self, grant_ids: Collection[int]) -> dict[int, list[SessionUsage]]:
        """Return the accounted usage of these grants, keyed by grant id.

        Stopped sessions come summed per grant (they only add up); running ones come one by
        one, since the policy counts each up to now.
        """
        usage: dict[int, list[SessionUsage]] = {grant_id: [] for grant_id in grant_ids}
        if not grant_ids:
            return usage
        connection = await self.session.connection()
        result = await connection.execute(_USAGE, {"grant_ids": list(grant_ids)})
        for grant_id, session_time, updated_at in result.all():
            if grant_id is None:
                continue
            if updated_at is None:
                usage[grant_id].append(SessionUsage(int(session_time), _EPOCH, stopped=True))
            else:
                usage[grant_id].append(
                    SessionUsage(session_time, _as_utc(updated_at), stopped=False)
                )
        return usage


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Built once: SQLAlchemy memoizes a statement's cache key, so the hot path skips rebuilding
# and re-keying it on every batch.
_GRANT_VIEWS = select(
    Grant.username,
    Grant.id,
    Grant.point_id,
    Grant.mac,
    Grant.seconds_allowed,
    Grant.login_deadline,
    Grant.first_login_at,
    Grant.revoked_at,
).where(Grant.username.in_(bindparam("usernames", expanding=True)))
_RECORD_LOGINS = (
    update(GRANTS)
    .where(GRANTS.c.id == bindparam("grant_id"))
    .values(mac=bindparam("v_mac"), first_login_at=bindparam("v_at"))
)
_SESSIONS = AccountingSession
_USAGE = union_all(
    select(
        _SESSIONS.grant_id,
        func.sum(_SESSIONS.session_time).label("session_time"),
        literal_column("NULL", type_=UTCDateTime()).label("updated_at"),
    )
    .where(
        _SESSIONS.grant_id.in_(bindparam("grant_ids", expanding=True)),
        _SESSIONS.stopped_at.is_not(None),
    )
    .group_by(_SESSIONS.grant_id),
    select(_SESSIONS.grant_id, _SESSIONS.session_time, _SESSIONS.updated_at).where(
        _SESSIONS.grant_id.in_(bindparam("grant_ids", expanding=True)),
        _SESSIONS.stopped_at.is_(None),
    ),
)


def _as_utc(value: datetime | str) -> datetime:
    """Timestamps from a UNION lose their column type on SQLite: parse and mark them UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

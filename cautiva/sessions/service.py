"""A device's session at a point: found by its grant or its address, with the time it has left."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.grants.repository import GrantRepository
from cautiva.models import Point
from cautiva.policy import SessionRules, seconds_left, used_seconds
from cautiva.sessions.repository import OpenSessionRepository


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """A device with a session open at a point, and the seconds its grant still allows."""

    username: str
    seconds_remaining: int

    @property
    def time_used_up(self) -> bool:
        """True when the grant has no time left (the router is about to cut the session)."""
        return self.seconds_remaining <= 0


async def device_status(
    session: AsyncSession,
    *,
    point: Point,
    username: str | None,
    address: str | None,
    now: datetime,
    rules: SessionRules,
) -> DeviceStatus | None:
    """Return the status of the device with a session open at `point`, or None if it has none.

    The device is named by the grant it logged in with (`username`) or, failing that, by the
    address the router gave it (`address` equal to a session's Framed-IP-Address).
    """
    sessions = OpenSessionRepository(session)
    found = None
    if username and await sessions.is_open(point_id=point.id, username=username):
        found = username
    if found is None and address:
        found = await sessions.username_at_address(point_id=point.id, address=address)
    if found is None:
        return None
    grants = GrantRepository(session)
    grant = (await grants.grant_views({found})).get(found)
    if grant is None:
        return None
    usage = await grants.usage_by_grant([grant.id])
    # The same rule as the Session-Timeout of an Access-Accept and the overrun check.
    left = seconds_left(grant, used_seconds(usage[grant.id], now), rules)
    return DeviceStatus(username=found, seconds_remaining=left)

"""RADIUS clients: the points' routers, found by NAS-Identifier, cached for a few seconds.

Points behind 4G and carrier NAT change address, so a client is identified by its
NAS-Identifier and proves itself with its own secret; a fixed source address is optional.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cautiva.database import transaction
from cautiva.models import Point
from cautiva.points.repository import PointRepository
from cautiva.points.service import point_view
from cautiva.policy import PointView


@dataclass(frozen=True, slots=True)
class RadiusClient:
    """A point as the RADIUS edge needs it."""

    view: PointView
    nas_id: str
    secret: bytes
    fixed_address: str | None
    require_message_authenticator: bool
    coa_port: int


def radius_client(point: Point) -> RadiusClient:
    """Return the RADIUS view of a point."""
    return RadiusClient(
        view=point_view(point),
        nas_id=point.nas_id,
        secret=point.radius_secret.encode(),
        fixed_address=point.fixed_address,
        require_message_authenticator=point.require_message_authenticator,
        coa_port=point.coa_port,
    )


class ClientDirectory:
    """Looks points up by NAS-Identifier (or fixed address), caching hits and misses briefly."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, ttl: float) -> None:
        self._sessions = sessions
        self._ttl = ttl
        self._cache: dict[str, tuple[float, RadiusClient | None]] = {}
        self._loading: dict[str, asyncio.Future[RadiusClient | None]] = {}

    async def find(self, *, nas_identifier: str | None, source: str) -> RadiusClient | None:
        """Return the client for this NAS-Identifier (or source address when it sends none)."""
        key = f"id:{nas_identifier}" if nas_identifier else f"ip:{source}"
        cached = self._cache.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        loading = self._loading.get(key)
        if loading is not None:
            return await asyncio.shield(loading)
        future: asyncio.Future[RadiusClient | None] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            client = await self._load(nas_identifier=nas_identifier, source=source)
            self._cache[key] = (time.monotonic() + self._ttl, client)
            future.set_result(client)
            return client
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # mark retrieved: the waiters (if any) re-raise it
            raise
        finally:
            del self._loading[key]

    async def _load(self, *, nas_identifier: str | None, source: str) -> RadiusClient | None:
        async with transaction(self._sessions) as session:
            repository = PointRepository(session)
            if nas_identifier:
                point = await repository.get_by_nas_id(nas_identifier)
            else:
                point = await repository.get_by_fixed_address(source)
            return radius_client(point) if point is not None else None

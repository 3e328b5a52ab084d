"""The RADIUS server: UDP sockets on the auth and accounting ports around the router."""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Coroutine, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from cautiva.accounting.service import AccountingEvent, record_many
from cautiva.database import transaction
from cautiva.fieldwork.service import record_status_server
from cautiva.grants.service import LoginAttempt, authorize_many
from cautiva.models import utcnow
from cautiva.policy import Decision
from cautiva.runtime import Runtime
from radius.accounting import accounting_event
from radius.auth import AuthHandler
from radius.batching import ShardedBatcher
from radius.clients import ClientDirectory, RadiusClient
from radius.codec import ReplyEncoder, Request
from radius.dedup import DuplicateCache
from radius.dictionary import load_dictionary
from radius.enforcement import Enforcer
from radius.router import Port, RadiusRouter
from radius.stats import Stats

log = logging.getLogger(__name__)


class _Protocol(asyncio.DatagramProtocol):
    """Hands each datagram to the router in its own task and sends the response back."""

    def __init__(self, server: RadiusServer, port: Port) -> None:
        self._server = server
        self._port = port
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's UDP transport does not subclass asyncio.DatagramTransport; it behaves as one.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self._server.spawn(self._answer(data, addr))

    async def _answer(self, data: bytes, addr: tuple[str, int]) -> None:
        response = await self._server.router.handle(data, (addr[0], addr[1]), self._port)
        if response is None or self.transport is None:
            return
        transport = self.transport
        if response.delay > 0:
            await asyncio.sleep(response.delay)
        if not transport.is_closing():
            transport.sendto(response.packet, addr)


class RadiusServer:
    """Owns the sockets, the batchers, the enforcer and the background tasks."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        settings = runtime.settings.radius
        self.dictionary = load_dictionary()
        self.stats = Stats()
        self.clients = ClientDirectory(runtime.sessions, ttl=settings.point_cache_ttl)
        self.enforcer = Enforcer(runtime, dictionary=self.dictionary, stats=self.stats)
        # SQLite has one writer at a time: parallel transactions would only wait on its lock.
        workers = 1 if runtime.engine.dialect.name == "sqlite" else settings.db_workers
        self._auth_batcher: ShardedBatcher[LoginAttempt, Decision] = ShardedBatcher(
            self._authorize_batch,
            shards=workers,
            shard_key=lambda attempt: zlib.crc32(attempt.username.encode()),
            max_batch=settings.batch_max,
            name="auth",
        )
        self._acct_batcher: ShardedBatcher[AccountingEvent, None] = ShardedBatcher(
            self._record_batch,
            shards=workers,
            # By session: events of one session stay in order. Accounting-On/Off may overtake
            # another shard's events, which is safe: it only closes sessions started before it.
            shard_key=lambda event: zlib.crc32(
                f"{event.point_id}:{event.acct_session_id}".encode()
            ),
            max_batch=settings.batch_max,
            name="accounting",
        )
        self.encoder = ReplyEncoder(self.dictionary)
        # Status-Server arrives every few seconds from some routers: kept here, written in bulk.
        self._seen: dict[int, datetime] = {}
        self._seen_task: asyncio.Task[None] | None = None
        self.router = RadiusRouter(
            encoder=self.encoder,
            clients=self.clients,
            auth=AuthHandler(
                secret_key=runtime.settings.secret_key, authorize=self._auth_batcher.submit
            ),
            accounting=self,
            duplicates=DuplicateCache(
                ttl=settings.duplicate_ttl, max_entries=settings.duplicate_max_entries
            ),
            stats=self.stats,
            max_attributes=settings.max_attributes,
            reject_delay=settings.reject_delay,
            status_seen=self._status_seen,
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self._transports: list[asyncio.DatagramTransport] = []
        self.addresses: dict[Port, tuple[str, int]] = {}
        self._stats_task: asyncio.Task[None] | None = None
        self.accepting = True

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run a coroutine as a tracked task (so shutdown can wait for it)."""
        if not self.accepting:
            work.close()
            return
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def record(
        self, request: Request, client: RadiusClient, source: str, now: datetime
    ) -> None:
        """Decode an Accounting-Request and return once it is committed."""
        event = accounting_event(
            request, point_id=client.view.id, source=source, now=now, cause_name=self._cause_name
        )
        await self._acct_batcher.submit(event)

    def _status_seen(self, point_id: int) -> None:
        self._seen[point_id] = utcnow()

    async def _write_seen(self) -> None:
        if not self._seen:
            return
        seen, self._seen = self._seen, {}
        try:
            async with transaction(self.runtime.sessions) as session:
                await record_status_server(session, seen=seen)
        except Exception:
            log.exception("Status-Server times not written; kept for the next try")
            for point_id, when in seen.items():
                self._seen.setdefault(point_id, when)

    async def _write_seen_forever(self) -> None:
        while True:
            await asyncio.sleep(self.runtime.settings.radius.status_flush_interval)
            await self._write_seen()

    def _cause_name(self, raw: bytes) -> str | None:
        return self.encoder.value_name("Acct-Terminate-Cause", raw)

    async def _authorize_batch(self, attempts: Sequence[LoginAttempt]) -> list[Decision]:
        async with transaction(self.runtime.sessions) as session:
            return await authorize_many(
                session, attempts=attempts, now=utcnow(), rules=self.runtime.rules
            )

    async def _record_batch(self, events: Sequence[AccountingEvent]) -> list[None]:
        async with transaction(self.runtime.sessions) as session:
            outcome = await record_many(
                session, events=events, now=utcnow(), rules=self.runtime.rules
            )
        # Committed: now it is safe to answer, and to act on what the records show.
        if outcome.closed:
            self.stats.count("sessions.closed_by_nas_restart", outcome.closed)
        for target in outcome.overruns:
            self.enforcer.schedule(target)
        return [None] * len(events)

    async def start(self) -> None:
        """Bind both ports and start the background work."""
        settings = self.runtime.settings.radius
        loop = asyncio.get_running_loop()
        self._auth_batcher.start()
        self._acct_batcher.start()
        for port, number in ((Port.AUTH, settings.auth_port), (Port.ACCT, settings.acct_port)):
            transport, _ = await loop.create_datagram_endpoint(
                lambda port=port: _Protocol(self, port),  # type: ignore[misc]
                local_addr=(settings.host, number),
                reuse_port=False,
            )
            self._transports.append(transport)
            self.addresses[port] = transport.get_extra_info("sockname")[:2]
        self.enforcer.start()
        self._write_stats()
        self._stats_task = loop.create_task(self._write_stats_forever())
        self._seen_task = loop.create_task(self._write_seen_forever())
        log.info(
            "cautiva radius listening on auth %s:%d and acct %s:%d",
            *self.addresses[Port.AUTH],
            *self.addresses[Port.ACCT],
        )

    async def stop(self) -> None:
        """Stop reading, finish what is under way (so accounting is answered), release all."""
        self.accepting = False
        if self._stats_task is not None:
            self._stats_task.cancel()
        if self._seen_task is not None:
            self._seen_task.cancel()
        await self._write_seen()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=10)
        await self._auth_batcher.drain()
        await self._acct_batcher.drain()
        await self.enforcer.close()
        for transport in self._transports:
            transport.close()
        self._write_stats()
        log.info("cautiva radius stopped; counters %s", self.stats.snapshot())

    @property
    def stats_path(self) -> Path:
        """Where the counters are written."""
        settings = self.runtime.settings
        return settings.radius.stats_file or settings.data_dir / "radius-stats.json"

    def _write_stats(self) -> None:
        try:
            self.stats.write(self.stats_path)
        except OSError as error:
            log.warning("cannot write %s: %s", self.stats_path, error)

    async def _write_stats_forever(self) -> None:
        last: dict[str, int] = {}
        while True:
            await asyncio.sleep(1.0)
            snapshot = self.stats.snapshot()
            if snapshot != last:
                self._write_stats()
                last = snapshot


async def run_radius(runtime: Runtime, stop: asyncio.Event) -> None:
    """Run the RADIUS server until `stop` is set (the CLI sets it on SIGTERM/SIGINT)."""
    server = RadiusServer(runtime)
    await server.start()
    try:
        await stop.wait()
    finally:
        await server.stop()

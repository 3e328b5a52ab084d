"""Enforcing the time limit: cutting overrun sessions and closing stale ones.

Accounting (and a periodic sweep) finds sessions past their time, e.g. on a router that ignores
Session-Timeout; each is cut with a Disconnect-Request, and the router's answer is recorded.
"""

from __future__ import annotations

import asyncio
import logging

from pyrad.dictionary import Dictionary

from cautiva.accounting.service import (
    DisconnectTarget,
    finish_disconnect,
    start_disconnect,
    sweep,
)
from cautiva.database import transaction
from cautiva.models import utcnow
from cautiva.points.repository import PointRepository
from cautiva.runtime import Runtime
from radius.coa import DisconnectRequestSpec, DisconnectResult, send_disconnect
from radius.stats import Stats

log = logging.getLogger(__name__)


async def disconnect_session(
    runtime: Runtime, target: DisconnectTarget, *, dictionary: Dictionary
) -> DisconnectResult:
    """Send a Disconnect-Request for `target` to its router and record the answer."""
    now = utcnow()
    async with transaction(runtime.sessions) as session:
        point = await PointRepository(session).get(target.point_id)
        disconnect_id = await start_disconnect(session, target=target, now=now)
    address = None
    if point is not None:
        address = point.fixed_address or target.nas_address
    if point is None or not address:
        result = DisconnectResult("error", 0, detail="no address known for the router")
    else:
        spec = DisconnectRequestSpec(
            address=address,
            port=point.coa_port,
            secret=point.radius_secret.encode(),
            username=target.username,
            acct_session_id=target.acct_session_id,
            framed_ip=target.framed_ip,
            mac=target.mac,
            nas_identifier=point.nas_id,
        )
        result = await send_disconnect(
            spec,
            dictionary=dictionary,
            reply_wait=runtime.settings.radius.coa_timeout,
            tries=runtime.settings.radius.coa_retries,
        )
    async with transaction(runtime.sessions) as session:
        await finish_disconnect(
            session,
            disconnect_id=disconnect_id,
            result=result.result,
            attempts=result.attempts,
            error_cause=result.error_cause,
            now=utcnow(),
        )
    log.info(
        "disconnect session %d (%s, %s): %s after %d tries%s",
        target.session_id,
        target.username,
        target.reason,
        result.result,
        result.attempts,
        f" error-cause {result.error_cause}" if result.error_cause else "",
    )
    return result


class Enforcer:
    """Runs disconnects in tracked background tasks and sweeps sessions periodically."""

    def __init__(self, runtime: Runtime, *, dictionary: Dictionary, stats: Stats) -> None:
        self._runtime = runtime
        self._dictionary = dictionary
        self._stats = stats
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._sweeper: asyncio.Task[None] | None = None

    def schedule(self, target: DisconnectTarget) -> None:
        """Cut `target` in the background unless a disconnect for it is already under way."""
        if target.session_id in self._in_flight:
            return
        task = asyncio.get_running_loop().create_task(self._disconnect(target))
        self._in_flight[target.session_id] = task
        task.add_done_callback(lambda _: self._in_flight.pop(target.session_id, None))

    async def _disconnect(self, target: DisconnectTarget) -> None:
        try:
            result = await disconnect_session(self._runtime, target, dictionary=self._dictionary)
            self._stats.count(f"disconnect.{result.result}")
        except Exception:
            self._stats.count("disconnect.failed")
            log.exception("disconnect of session %d failed", target.session_id)

    def start(self) -> None:
        """Start the periodic sweep."""
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    async def sweep_once(self) -> None:
        """Close stale sessions and cut overrun ones, once."""
        settings = self._runtime.settings
        async with transaction(self._runtime.sessions) as session:
            outcome = await sweep(
                session,
                now=utcnow(),
                rules=self._runtime.rules,
                stale_intervals=settings.session.stale_intervals,
            )
        if outcome.closed:
            self._stats.count("sessions.closed_stale", outcome.closed)
            log.info("closed %d stale sessions", outcome.closed)
        for target in outcome.overruns:
            self.schedule(target)

    async def _sweep_forever(self) -> None:
        interval = self._runtime.settings.radius.sweep_interval
        while True:
            await asyncio.sleep(interval)
            try:
                await self.sweep_once()
            except Exception:
                log.exception("session sweep failed; will try again")

    async def close(self) -> None:
        """Stop sweeping and wait for disconnects under way."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
        if self._in_flight:
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

"""Funnel counts buffered in memory and written every few seconds, off the request path.

One counter row per point, day and event is what every phone at a busy terminal increments;
taking its row lock inside each page's transaction queued requests behind one another (seen
in `make bench`). Counts wait here instead and are added in one short transaction. A crash
loses at most one interval of counts: these are statistics, not accounting or answers.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import date, datetime

from cautiva.database import transaction
from cautiva.funnel.service import add_counts, check_event
from cautiva.runtime import Runtime

log = logging.getLogger("cautiva.portal")


class FunnelBuffer:
    """Counts by (day, point, event) until the next flush."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[date, int, str]] = Counter()

    def count(self, *, point_id: int, event: str, now: datetime) -> None:
        """Add one to `event` at the point on `now`'s (UTC) day."""
        self._counts[(now.date(), point_id, check_event(event).value)] += 1

    async def flush(self, runtime: Runtime) -> None:
        """Write what is buffered; on failure keep it for the next try."""
        if not self._counts:
            return
        taken, self._counts = self._counts, Counter()
        try:
            async with transaction(runtime.sessions) as session:
                await add_counts(session, counts=taken)
        except Exception:
            self._counts.update(taken)
            raise

    async def run(self, runtime: Runtime, interval: float) -> None:
        """Flush every `interval` seconds until cancelled, then once more."""
        try:
            while True:
                await asyncio.sleep(interval)
                try:
                    await self.flush(runtime)
                except Exception:
                    log.exception("funnel counts not written; kept for the next try")
        finally:
            try:
                await self.flush(runtime)
            except Exception:
                log.exception("funnel counts lost at shutdown")

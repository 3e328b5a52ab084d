"""One round of alert work: open and close operational alerts, then send the webhooks due.

The portal runs a round every `CAUTIVA_ALERTS_CHECK_INTERVAL` seconds; `cautiva alert check`
runs one (from cron, say, when no portal runs). Each step has its own short transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cautiva.alerts.operational import CheckResult, check_points
from cautiva.alerts.webhook import RoundResult, deliver_due
from cautiva.database import transaction
from cautiva.settings import AlertSettings

log = logging.getLogger("cautiva.alerts")


@dataclass(frozen=True, slots=True)
class Round:
    """What a round did: operational alerts opened and closed, webhooks sent."""

    checked: CheckResult
    sent: RoundResult


async def run_round(
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
    settings: AlertSettings,
    *,
    now: datetime,
    listening_since: datetime | None = None,
) -> Round:
    """Check the points, then deliver the webhooks due by `now`."""
    try:
        async with transaction(sessions) as session:
            checked = await check_points(
                session, settings=settings, now=now, listening_since=listening_since
            )
    except IntegrityError:
        # Another process opened the same operational alert first (one open key per point).
        log.info("operational alerts raced another process; the next round checks again")
        checked = CheckResult()
    sent = await deliver_due(sessions, client, settings, now=now)
    return Round(checked, sent)

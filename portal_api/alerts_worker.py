"""The portal's alert worker: every `CAUTIVA_ALERTS_CHECK_INTERVAL` seconds, one alert round.

A round opens and closes operational alerts and sends the webhook deliveries due (see
`cautiva.alerts.rounds`). Several portal processes may each run one: deliveries are claimed
row by row, and an operational alert is open at most once per point.
"""

from __future__ import annotations

import asyncio
import logging

import httpx

from cautiva.alerts.rounds import run_round
from cautiva.models import utcnow
from cautiva.runtime import Runtime

log = logging.getLogger("cautiva.alerts")


async def run_alerts(runtime: Runtime, interval: float) -> None:
    """Run an alert round every `interval` seconds until cancelled."""
    started = utcnow()
    settings = runtime.settings.alerts
    # No redirects: a webhook answers itself, a redirect is a misconfiguration to surface.
    async with httpx.AsyncClient(follow_redirects=False) as client:
        while True:
            await asyncio.sleep(interval)
            try:
                await run_round(
                    runtime.sessions, client, settings, now=utcnow(), listening_since=started
                )
            except Exception:
                log.exception("alert round failed; the next round tries again")

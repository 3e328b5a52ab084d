"""Webhook deliveries: the exact JSON body, its HMAC signature, and sending with retries.

Every new alert (and every acknowledgement and closing) is queued as one `WebhookDelivery`
holding the exact body to send, in the transaction that changed the alert. A worker
(`deliver_due`) POSTs due deliveries to `CAUTIVA_ALERTS_WEBHOOK_URL` with these headers:

    Content-Type: application/json
    X-Cautiva-Event: alert.opened | alert.acknowledged | alert.closed
    X-Cautiva-Delivery: <delivery id>            (the same on every retry: deduplicate on it)
    X-Cautiva-Timestamp: <unix seconds of this attempt>
    X-Cautiva-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>

The receiver recomputes the HMAC over the timestamp, a dot and the raw body bytes with
`CAUTIVA_ALERTS_WEBHOOK_SECRET`, compares it in constant time, and refuses timestamps more than
a few minutes old: the timestamp is signed, so a captured request cannot be replayed later.
A 2xx answer is success; anything else (other statuses, timeouts, refused connections) is
retried after `webhook_backoff` seconds, then twice as long each time, until `webhook_attempts`
attempts have failed; the delivery is then dead (listed for people to retry by hand).

Bodies carry the point and what the alert is about, never an email, person key, MAC or address.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cautiva.alerts.repository import AlertRepository
from cautiva.database import transaction
from cautiva.models import Alert, DeliveryState, Point, WebhookDelivery
from cautiva.settings import AlertSettings

log = logging.getLogger("cautiva.alerts")

BATCH = 20
"""Deliveries sent at once by one round; the next round takes the rest."""

LEASE_MARGIN = timedelta(seconds=60)
"""A claimed delivery is due again after its timeout plus this, should its sender die."""

MAX_ERROR_LENGTH = 500


class Event(StrEnum):
    """The events a webhook announces."""

    OPENED = "alert.opened"
    ACKNOWLEDGED = "alert.acknowledged"
    CLOSED = "alert.closed"


def alert_body(event: str, alert: Alert, point: Point) -> str:
    """The JSON body announcing `event` for `alert` at `point` (compact, UTF-8)."""
    payload = {
        "event": event,
        "alert": {
            "id": alert.id,
            "kind": alert.kind,
            "severity": alert.severity,
            "state": alert.state,
            "title": alert.title,
            "point": point.nas_id,
            "point_name": point.name,
            "department": point.department,
            "municipality": point.municipality,
            "created_at": alert.created_at.isoformat(),
            "details": alert.details,
        },
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def signature(secret: str, timestamp: int, body: str) -> str:
    """The `X-Cautiva-Signature` value: `sha256=` and the hex HMAC of `<timestamp>.<body>`."""
    return _signed(secret, str(timestamp).encode(), body.encode())


def _signed(secret: str, timestamp: bytes, body: bytes) -> str:
    return (
        "sha256=" + hmac.new(secret.encode(), timestamp + b"." + body, hashlib.sha256).hexdigest()
    )


def verify(secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    """Whether a received raw body carries a valid signature, as a receiver checks it."""
    timestamp = headers.get("x-cautiva-timestamp", "")
    sent = headers.get("x-cautiva-signature", "")
    if not timestamp.isascii() or not timestamp.isdigit():
        return False
    expected = _signed(secret, timestamp.encode(), body)
    return hmac.compare_digest(expected.encode(), sent.encode("utf-8", errors="replace"))


def headers_for(
    delivery_id: int, event: str, body: str, *, secret: str, timestamp: int
) -> dict[str, str]:
    """The headers of one attempt."""
    return {
        "Content-Type": "application/json",
        "User-Agent": "Cautiva-Webhook/1",
        "X-Cautiva-Event": event,
        "X-Cautiva-Delivery": str(delivery_id),
        "X-Cautiva-Timestamp": str(timestamp),
        "X-Cautiva-Signature": signature(secret, timestamp, body),
    }


async def enqueue(
    session: AsyncSession, *, event: str, alert: Alert, point: Point, now: datetime
) -> WebhookDelivery:
    """Queue the announcement of `event` for `alert` (sent by the next delivery round)."""
    return await AlertRepository(session).add_delivery(
        WebhookDelivery(
            alert_id=alert.id,
            event=event,
            body=alert_body(event, alert, point),
            state=DeliveryState.PENDING.value,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )


def retry_delay(backoff: float, attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failure: doubling, with up to 10% jitter."""
    base = backoff * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=base * random.uniform(1.0, 1.1))


@dataclass(frozen=True, slots=True)
class _Claimed:
    id: int
    event: str
    body: str


@dataclass(frozen=True, slots=True)
class _Outcome:
    id: int
    ok: bool
    error: str | None


@dataclass(frozen=True, slots=True)
class RoundResult:
    """What one delivery round did."""

    delivered: int = 0
    failed: int = 0
    dead: int = 0


async def deliver_due(
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
    settings: AlertSettings,
    *,
    now: datetime,
) -> RoundResult:
    """Send the deliveries due by `now` (at most one batch) and record how each went.

    Rows are claimed in one short transaction, sent with no transaction open, and the outcomes
    written in another: a slow receiver never holds a database lock.
    """
    if not settings.webhook_url:
        return RoundResult()
    lease_until = now + timedelta(seconds=settings.webhook_timeout) + LEASE_MARGIN
    async with transaction(sessions) as session:
        repository = AlertRepository(session)
        claimed = [
            _Claimed(row.id, row.event, row.body)
            for row in await repository.due_deliveries(now=now, limit=BATCH)
            if await repository.lease(row.id, now=now, until=lease_until)
        ]
    if not claimed:
        return RoundResult()
    outcomes = await asyncio.gather(*(_send(client, settings, item) for item in claimed))
    return await _record(sessions, settings, outcomes, now=now)


async def _send(client: httpx.AsyncClient, settings: AlertSettings, item: _Claimed) -> _Outcome:
    timestamp = int(time.time())
    headers = headers_for(
        item.id, item.event, item.body, secret=settings.webhook_secret, timestamp=timestamp
    )
    try:
        answer = await client.post(
            settings.webhook_url,
            content=item.body.encode(),
            headers=headers,
            timeout=settings.webhook_timeout,
        )
    except httpx.HTTPError as error:
        return _Outcome(item.id, False, f"{type(error).__name__}: {error}"[:MAX_ERROR_LENGTH])
    if answer.is_success:
        return _Outcome(item.id, True, None)
    return _Outcome(item.id, False, f"HTTP {answer.status_code}")


async def _record(
    sessions: async_sessionmaker[AsyncSession],
    settings: AlertSettings,
    outcomes: Sequence[_Outcome],
    *,
    now: datetime,
) -> RoundResult:
    delivered = failed = dead = 0
    async with transaction(sessions) as session:
        repository = AlertRepository(session)
        for outcome in outcomes:
            row = await repository.delivery(outcome.id)
            if row is None or row.state != DeliveryState.PENDING.value:
                continue
            row.attempts += 1
            if outcome.ok:
                row.state, row.delivered_at, row.last_error = (
                    DeliveryState.DELIVERED.value,
                    now,
                    None,
                )
                delivered += 1
                continue
            row.last_error = outcome.error
            if row.attempts >= settings.webhook_attempts:
                row.state = DeliveryState.DEAD.value
                dead += 1
                log.warning(
                    "webhook delivery %s dead after %s attempts: %s",
                    row.id,
                    row.attempts,
                    outcome.error,
                )
            else:
                row.next_attempt_at = now + retry_delay(settings.webhook_backoff, row.attempts)
                failed += 1
        await session.flush()
    return RoundResult(delivered=delivered, failed=failed, dead=dead)

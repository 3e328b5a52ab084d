"""Webhook deliveries to a real local HTTP receiver: signed bodies, retries, the dead letters."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest
from alerts_receiver import receiver, refused_url, signed_correctly
from test_alerts_service import alerts_at, deliveries_of, disable, new_rule, submit, violent_answers

from cautiva.alerts.service import list_deliveries, retry_delivery
from cautiva.alerts.webhook import RoundResult, deliver_due
from cautiva.database import transaction
from cautiva.errors import InvalidInput
from cautiva.models import WebhookDelivery, utcnow
from cautiva.runtime import Runtime
from cautiva.settings import AlertSettings
from factories import create_point

SECRET = "webhook-secret-" + "w" * 24


def alert_settings(url: str, *, attempts: int = 3, backoff: float = 10) -> AlertSettings:
    return AlertSettings(
        webhook_url=url,
        webhook_secret=SECRET,
        webhook_attempts=attempts,
        webhook_backoff=backoff,
        webhook_timeout=5,
    )


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(follow_redirects=False) as http:
        yield http


async def delivery(runtime: Runtime, delivery_id: int) -> WebhookDelivery:
    async with transaction(runtime.sessions) as session:
        row = await session.get(WebhookDelivery, delivery_id)
        assert row is not None
        return row


async def until_tried(
    runtime: Runtime,
    client: httpx.AsyncClient,
    settings: AlertSettings,
    delivery_id: int,
    *,
    now: datetime,
) -> WebhookDelivery:
    """Run delivery rounds at `now` until this delivery was tried (older ones may come first)."""
    before = await delivery(runtime, delivery_id)
    for _ in range(20):
        result = await deliver_due(runtime.sessions, client, settings, now=now)
        row = await delivery(runtime, delivery_id)
        if row.attempts != before.attempts or row.state != before.state:
            return row
        if result == RoundResult():
            break
    raise AssertionError(f"delivery {delivery_id} was never tried")


async def one_alert_delivery(runtime: Runtime) -> WebhookDelivery:
    """A point, a rule on it, a matching response: its one queued delivery."""
    point = await create_point(runtime)
    rule = await new_rule(runtime, "selected(${risks}, 'violence')", points=[point])
    try:
        await submit(runtime, point, violent_answers(), webhooks=True)
    finally:
        await disable(runtime, rule)
    (alert,) = await alerts_at(runtime, point)
    (queued,) = await deliveries_of(runtime, [alert])
    assert queued.state == "pending" and queued.attempts == 0
    return queued


async def test_the_receiver_gets_a_correctly_signed_body(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    queued = await one_alert_delivery(runtime)
    with receiver(200) as hook:
        settings = alert_settings(hook.url)
        sent = await until_tried(runtime, client, settings, queued.id, now=utcnow())
        (request,) = hook.of(queued.id)
    assert sent.state == "delivered" and sent.attempts == 1 and sent.delivered_at is not None
    assert request.path == "/hooks/cautiva"
    assert request.body.decode() == queued.body
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-cautiva-event"] == "alert.opened"
    assert abs(int(request.headers["x-cautiva-timestamp"]) - utcnow().timestamp()) < 300
    assert signed_correctly(SECRET, request)
    assert not signed_correctly("another-secret-" + "x" * 20, request)
    body = json.loads(request.body)
    assert body["event"] == "alert.opened" and body["alert"]["kind"] == "response"
    # Delivered once: later rounds leave it alone.
    await deliver_due(runtime.sessions, client, settings, now=utcnow() + timedelta(days=1))
    assert (await delivery(runtime, queued.id)).attempts == 1


async def test_a_failing_receiver_is_retried_with_backoff_then_dead(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    queued = await one_alert_delivery(runtime)
    with receiver(500) as hook:
        settings = alert_settings(hook.url, attempts=3, backoff=10)
        now = utcnow()
        first = await until_tried(runtime, client, settings, queued.id, now=now)
        assert (first.state, first.attempts, first.last_error) == ("pending", 1, "HTTP 500")
        wait_1 = first.next_attempt_at - now
        assert timedelta(seconds=10) <= wait_1 <= timedelta(seconds=11)
        # Not due yet: a round just before leaves it alone.
        early = first.next_attempt_at - timedelta(seconds=1)
        await deliver_due(runtime.sessions, client, settings, now=early)
        assert (await delivery(runtime, queued.id)).attempts == 1
        now = first.next_attempt_at
        second = await until_tried(runtime, client, settings, queued.id, now=now)
        wait_2 = second.next_attempt_at - now
        assert second.attempts == 2 and wait_2 > wait_1
        assert timedelta(seconds=20) <= wait_2 <= timedelta(seconds=22)
        third = await until_tried(runtime, client, settings, queued.id, now=second.next_attempt_at)
        assert (third.state, third.attempts, third.last_error) == ("dead", 3, "HTTP 500")
        tries = hook.of(queued.id)
    assert len(tries) == 3 and all(signed_correctly(SECRET, t) for t in tries)
    assert {t.body for t in tries} == {queued.body.encode()}
    async with transaction(runtime.sessions) as session:
        dead = await list_deliveries(session, states=("dead",))
        assert queued.id in {d.id for d in dead}
    # Dead stays dead, however late the round.
    await deliver_due(runtime.sessions, client, settings, now=utcnow() + timedelta(days=30))
    assert (await delivery(runtime, queued.id)).state == "dead"


async def test_a_refused_connection_ends_dead_and_a_retry_delivers(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    queued = await one_alert_delivery(runtime)
    settings = alert_settings(refused_url(), attempts=2, backoff=1)
    first = await until_tried(runtime, client, settings, queued.id, now=utcnow())
    assert first.attempts == 1 and first.last_error and "ConnectError" in first.last_error
    dead = await until_tried(runtime, client, settings, queued.id, now=first.next_attempt_at)
    assert dead.state == "dead" and dead.attempts == 2
    async with transaction(runtime.sessions) as session:
        again = await retry_delivery(session, delivery_id=queued.id, now=utcnow())
        assert (again.state, again.attempts) == ("pending", 0)
        with pytest.raises(InvalidInput, match="only a dead one"):
            await retry_delivery(session, delivery_id=queued.id, now=utcnow())
    with receiver(204) as hook:
        sent = await until_tried(runtime, client, alert_settings(hook.url), queued.id, now=utcnow())
        assert sent.state == "delivered" and len(hook.of(queued.id)) == 1


async def test_no_webhook_url_sends_nothing(runtime: Runtime, client: httpx.AsyncClient) -> None:
    queued = await one_alert_delivery(runtime)
    result = await deliver_due(runtime.sessions, client, AlertSettings(), now=utcnow())
    assert result == RoundResult()
    assert (await delivery(runtime, queued.id)).state == "pending"

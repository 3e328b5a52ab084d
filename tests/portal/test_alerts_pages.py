"""The alert pages over HTTP: rules, alerts raised by the survey API, handling, dead letters."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from alerts_receiver import refused_url
from sqlalchemy import select
from test_admin_pages import csrf_of, sign_in, user

from cautiva.alerts.service import set_rule_active
from cautiva.alerts.webhook import deliver_due
from cautiva.database import transaction
from cautiva.models import Alert, AlertRule, AuditEntry, Point, WebhookDelivery, utcnow
from cautiva.responses.service import person_key
from cautiva.runtime import Runtime
from cautiva.settings import AlertSettings
from conftest import TEST_SECRET_KEY
from factories import create_point, full_answers
from portal_api.app import create_app

SECRET = "page-test-secret-" + "p" * 20
MAC, IP = "02:00:00:C0:FF:EE", "10.1.0.77"


@pytest.fixture
async def http(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """A cookie-keeping client on the portal app, its webhook set to a closed port."""
    runtime.settings.alerts = AlertSettings(
        webhook_url=refused_url(), webhook_secret=SECRET, webhook_attempts=1
    )
    app = create_app(runtime.settings)
    app.state.runtime = runtime
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as client:
        yield client


async def analyst(runtime: Runtime, http: httpx.AsyncClient) -> str:
    """Sign in a new analyst; returns their email."""
    email, password = await user(runtime, "analyst")
    signed = await sign_in(http, email, password)
    assert signed.status_code == 303
    return email


async def add_rule_through_the_page(
    http: httpx.AsyncClient, *, name: str, expression: str, point: Point
) -> httpx.Response:
    form = await http.get("/admin/alerts/rules")
    assert form.status_code == 200
    return await http.post(
        "/admin/alerts/rules",
        data={
            "csrf": csrf_of(form.text),
            "name": name,
            "expression": expression,
            "severity": "critical",
            "points": [point.nas_id],
        },
    )


async def switch_off(runtime: Runtime, name: str) -> None:
    async with transaction(runtime.sessions) as session:
        await set_rule_active(session, ref=name, active=False, now=utcnow())


def survey(email: str, **answers: object) -> dict[str, object]:
    return {
        "lang": "es",
        "age_confirmed": True,
        "terms_accepted": True,
        "email": email,
        "answers": full_answers() | answers,
        "router": {"mac": MAC, "ip": IP},
    }


async def test_an_analyst_writes_a_rule_and_handles_the_alert_it_raises(
    runtime: Runtime, http: httpx.AsyncClient
) -> None:
    email = await analyst(runtime, http)
    home = await http.get("/admin/alerts")
    assert home.status_code == 200 and 'href="/admin/alerts"' in home.text
    point = await create_point(runtime)
    name = f"Violencia {uuid.uuid4().hex[:6]}"
    bad = await add_rule_through_the_page(
        http, name=name, expression="selected(${risks}, 'violence'", point=point
    )
    assert bad.status_code == 422 and "expected &#39;)&#39;" in bad.text
    assert f'value="{name}"' in bad.text, "the form keeps what was typed"
    added = await add_rule_through_the_page(
        http, name=name, expression="selected(${risks}, 'violence')", point=point
    )
    assert added.status_code == 303, added.text
    rules = await http.get(added.headers["location"])
    assert "Rule added." in rules.text and name in rules.text and point.nas_id in rules.text
    try:
        person = f"Migrante.{uuid.uuid4().hex[:8]}@Example.org"
        sent = await http.post(
            f"/api/v1/points/{point.nas_id}/responses",
            json=survey(person, risks=["violence"], risks_help="yes"),
        )
        assert sent.status_code == 201, sent.text
        page = await http.get("/admin/alerts")
        async with transaction(runtime.sessions) as session:
            ids = await session.scalars(select(Alert.id).where(Alert.point_id == point.id))
            (alert_id,) = ids.all()
        card = page.text[page.text.index(f'id="alert-{alert_id}"') :]
        card = card[: card.index("</div>")]
        assert point.name in card and "violence" in card and "critical" in card
        acked = await http.post(
            f"/admin/alerts/{alert_id}/acknowledge", data={"csrf": csrf_of(page.text)}
        )
        assert acked.status_code == 303
        page = await http.get("/admin/alerts?state=acknowledged")
        card = page.text[page.text.index(f'id="alert-{alert_id}"') :]
        assert f"user:{email}" in card[: card.index("</div>")]
        again = await http.post(
            f"/admin/alerts/{alert_id}/acknowledge", data={"csrf": csrf_of(page.text)}
        )
        assert again.status_code == 422 and "only an open alert" in again.text
        unknown = await http.post(
            f"/admin/alerts/{alert_id}/reopen", data={"csrf": csrf_of(page.text)}
        )
        assert unknown.status_code == 422 and "no action" in unknown.text
        closed = await http.post(
            f"/admin/alerts/{alert_id}/close", data={"csrf": csrf_of(page.text)}
        )
        assert closed.status_code == 303
        page = await http.get("/admin/alerts?state=closed")
        card = page.text[page.text.index(f'id="alert-{alert_id}"') :]
        card = card[: card.index("</div>")]
        assert "Acknowledged" in card and "Closed" in card and card.count(f"user:{email}") == 2
        missing = await http.post(
            "/admin/alerts/999999999/close", data={"csrf": csrf_of(page.text)}
        )
        assert missing.status_code == 404
        no_token = await http.post(f"/admin/alerts/{alert_id}/close", data={"csrf": "forged"})
        assert no_token.status_code == 403
        async with transaction(runtime.sessions) as session:
            actions = (
                await session.scalars(
                    select(AuditEntry.action).where(AuditEntry.target == str(alert_id))
                )
            ).all()
            assert {"alert.acknowledge", "alert.close"} <= set(actions)
            alert = await session.get(Alert, int(alert_id))
            assert alert is not None
            bodies = (
                await session.scalars(
                    select(WebhookDelivery.body)
                    .where(WebhookDelivery.alert_id == alert.id)
                    .order_by(WebhookDelivery.id)
                )
            ).all()
        assert len(bodies) == 3, "opened, acknowledged, closed"
        # Nothing that identifies the person, their phone or its address, anywhere.
        seeded = [person, MAC, MAC.replace(":", "-"), IP, person_key(TEST_SECRET_KEY, person)]
        for text in [*bodies, str(alert.details), alert.title, page.text]:
            for value in seeded:
                assert value.lower() not in text.lower(), value
    finally:
        await switch_off(runtime, name)


async def test_rules_and_alerts_need_their_rights(
    runtime: Runtime, http: httpx.AsyncClient
) -> None:
    email, password = await user(runtime, "technician")
    await sign_in(http, email, password)
    home = await http.get("/admin")
    assert 'href="/admin/alerts"' not in home.text
    for path in ("/admin/alerts", "/admin/alerts/rules", "/admin/alerts/deliveries"):
        refused = await http.get(path)
        assert refused.status_code == 403, path
    signed_out = httpx.AsyncClient(transport=http._transport, base_url="http://portal.test")
    async with signed_out:
        away = await signed_out.get("/admin/alerts")
        assert away.status_code == 303 and "/admin/login" in away.headers["location"]
    admin_email, admin_password = await user(runtime, "admin")
    await sign_in(http, admin_email, admin_password)
    assert (await http.get("/admin/alerts/rules")).status_code == 200
    assert (await http.get("/admin/alerts?state=solved")).status_code == 422


async def test_a_dead_delivery_is_listed_and_can_be_retried(
    runtime: Runtime, http: httpx.AsyncClient
) -> None:
    await analyst(runtime, http)
    point = await create_point(runtime)
    name = f"Grupo grande {uuid.uuid4().hex[:6]}"
    added = await add_rule_through_the_page(
        http, name=name, expression="${group_size} >= 2", point=point
    )
    assert added.status_code == 303
    try:
        person = f"persona.{uuid.uuid4().hex[:8]}@example.org"
        sent = await http.post(f"/api/v1/points/{point.nas_id}/responses", json=survey(person))
        assert sent.status_code == 201
    finally:
        await switch_off(runtime, name)
    async with transaction(runtime.sessions) as session:
        rule = await session.scalar(select(AlertRule).where(AlertRule.name == name))
        assert rule is not None
        queued = await session.scalar(
            select(WebhookDelivery)
            .join(Alert, Alert.id == WebhookDelivery.alert_id)
            .where(Alert.rule_id == rule.id)
        )
        assert queued is not None
    # One attempt allowed, the port refuses: dead (older due deliveries may go first).
    async with httpx.AsyncClient() as client:
        for _ in range(20):
            await deliver_due(runtime.sessions, client, runtime.settings.alerts, now=utcnow())
            async with transaction(runtime.sessions) as session:
                row = await session.get(WebhookDelivery, queued.id)
                assert row is not None
                if row.state == "dead":
                    break
    assert row.state == "dead"
    alerts = await http.get("/admin/alerts")
    assert "failed for good" in alerts.text
    page = await http.get("/admin/alerts/deliveries")
    assert page.status_code == 200 and "http://127.0.0.1" in page.text
    dead = page.text[page.text.index("Dead letters") : page.text.index("Waiting to be sent")]
    assert f'id="delivery-{queued.id}"' in dead and "ConnectError" in dead
    retried = await http.post(
        f"/admin/alerts/deliveries/{queued.id}/retry", data={"csrf": csrf_of(page.text)}
    )
    assert retried.status_code == 303
    page = await http.get(retried.headers["location"])
    assert f"Delivery {queued.id} queued again." in page.text
    waiting = page.text[page.text.index("Waiting to be sent") :]
    assert f'id="delivery-{queued.id}"' in waiting
    twice = await http.post(
        f"/admin/alerts/deliveries/{queued.id}/retry", data={"csrf": csrf_of(page.text)}
    )
    assert twice.status_code == 422 and "only a dead one" in twice.text
    # Tidy: the delivery goes dead again instead of reaching a later test's receiver.
    async with transaction(runtime.sessions) as session:
        row = await session.get(WebhookDelivery, queued.id)
        assert row is not None
        row.state = "dead"

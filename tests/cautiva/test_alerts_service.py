"""Alerts raised by survey responses on the real database, their handling, and what they hold."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from cautiva.alerts.service import (
    acknowledge_alert,
    add_rule,
    close_alert,
    list_alerts,
    list_rules,
    set_rule_active,
)
from cautiva.database import transaction
from cautiva.errors import Conflict, InvalidInput, NotFound
from cautiva.models import Alert, AlertRule, Point, WebhookDelivery, utcnow
from cautiva.responses.service import SubmittedResponse, person_key, submit_response
from cautiva.runtime import Runtime
from conftest import TEST_SECRET_KEY
from factories import create_point, full_answers

MAC = "02-00-00-AA-BB-07"


def violent_answers(**changes: object) -> dict[str, object]:
    """Answers to the shipped form that declare violence on the way."""
    return full_answers() | {"risks": ["violence"], "risks_help": "yes"} | changes


async def new_rule(
    runtime: Runtime,
    expression: str,
    *,
    points: Sequence[Point] = (),
    severity: str = "critical",
) -> AlertRule:
    """Add a rule with a unique name."""
    async with transaction(runtime.sessions) as session:
        added = await add_rule(
            session,
            name=f"Rule {uuid.uuid4().hex[:8]}",
            expression=expression,
            severity=severity,
            points=[p.nas_id for p in points],
            created_by="test",
            now=utcnow(),
        )
        return added.rule


async def disable(runtime: Runtime, rule: AlertRule) -> None:
    """Switch a test's rule off, so it watches no later test's responses."""
    async with transaction(runtime.sessions) as session:
        await set_rule_active(session, ref=rule.name, active=False, now=utcnow())


async def submit(
    runtime: Runtime,
    point: Point,
    answers: Mapping[str, object],
    *,
    email: str | None = None,
    mac: str | None = MAC,
    webhooks: bool = False,
    now: datetime | None = None,
) -> SubmittedResponse:
    async with transaction(runtime.sessions) as session:
        return await submit_response(
            session,
            point=point,
            lang="es",
            email=email or f"migrante.{uuid.uuid4().hex[:8]}@example.org",
            age_confirmed=True,
            terms_accepted=True,
            answers=answers,
            mac=mac,
            now=now or utcnow(),
            secret_key=runtime.settings.secret_key,
            rules=runtime.rules,
            login_window=runtime.settings.session.login_window,
            returning_period=timedelta(days=30),
            duplicate_window=timedelta(seconds=300),
            alert_webhooks=webhooks,
        )


async def alerts_at(runtime: Runtime, point: Point) -> list[Alert]:
    async with transaction(runtime.sessions) as session:
        query = select(Alert).where(Alert.point_id == point.id).order_by(Alert.id)
        return list((await session.scalars(query)).all())


async def deliveries_of(runtime: Runtime, alerts: Sequence[Alert]) -> list[WebhookDelivery]:
    async with transaction(runtime.sessions) as session:
        query = (
            select(WebhookDelivery)
            .where(WebhookDelivery.alert_id.in_([a.id for a in alerts]))
            .order_by(WebhookDelivery.id)
        )
        return list((await session.scalars(query)).all())


def dump(alert: Alert) -> str:
    """Every column of an alert as text, for scanning."""
    return json.dumps(
        {c.key: getattr(alert, c.key) for c in Alert.__mapper__.column_attrs},
        default=str,
        ensure_ascii=False,
    )


async def test_a_matching_response_raises_exactly_one_alert(runtime: Runtime) -> None:
    point, other = await create_point(runtime), await create_point(runtime)
    rule = await new_rule(runtime, "selected(${risks}, 'violence')", points=[point])
    try:
        await submit(runtime, point, violent_answers())
        (alert,) = await alerts_at(runtime, point)
        assert (alert.kind, alert.rule_id, alert.state) == ("response", rule.id, "open")
        assert (alert.title, alert.severity) == (rule.name, "critical")
        assert alert.details == {"risks": ["violence"]}
        assert alert.open_key is None and alert.acknowledged_by is None
        # Not matching: nothing. Another point than the rule's: nothing.
        await submit(runtime, point, full_answers())
        await submit(runtime, other, violent_answers())
        assert len(await alerts_at(runtime, point)) == 1
        assert await alerts_at(runtime, other) == []
        # No webhook queued unless asked for.
        assert await deliveries_of(runtime, [alert]) == []
    finally:
        await disable(runtime, rule)


async def test_a_rule_without_points_watches_every_point(runtime: Runtime) -> None:
    first, second = await create_point(runtime), await create_point(runtime)
    marker = f"Frontera {uuid.uuid4().hex[:8]}"
    rule = await new_rule(runtime, f"${{coming_from_place}} = '{marker}' and ${{group_size}} > 1")
    try:
        await submit(runtime, first, full_answers() | {"coming_from_place": marker})
        await submit(runtime, second, full_answers() | {"coming_from_place": marker})
        await submit(runtime, second, full_answers())
        (one,), (two,) = await alerts_at(runtime, first), await alerts_at(runtime, second)
        # The free-text answer the rule reads is never copied into the alert.
        assert one.details == two.details == {"group_size": 2}
        assert marker not in dump(one)
    finally:
        await disable(runtime, rule)


async def test_a_double_submission_raises_no_second_alert(runtime: Runtime) -> None:
    point = await create_point(runtime)
    rule = await new_rule(runtime, "selected(${risks}, 'violence')", points=[point])
    try:
        email = f"doble.{uuid.uuid4().hex[:8]}@example.org"
        first = await submit(runtime, point, violent_answers(), email=email)
        again = await submit(runtime, point, violent_answers(), email=email)
        assert again.response_id == first.response_id
        assert len(await alerts_at(runtime, point)) == 1
    finally:
        await disable(runtime, rule)


async def test_disabled_rules_raise_nothing_and_rules_list(runtime: Runtime) -> None:
    point = await create_point(runtime)
    rule = await new_rule(runtime, "${group_size} >= 2", points=[point], severity="info")
    await disable(runtime, rule)
    await submit(runtime, point, full_answers())
    assert await alerts_at(runtime, point) == []
    async with transaction(runtime.sessions) as session:
        (view,) = [v for v in await list_rules(session) if v.rule.id == rule.id]
        assert not view.rule.active and [p.nas_id for p in view.points] == [point.nas_id]
        again = await set_rule_active(session, ref=str(rule.id), active=True, now=utcnow())
        assert again.active
    await submit(runtime, point, full_answers())
    assert len(await alerts_at(runtime, point)) == 1
    await disable(runtime, rule)


async def test_adding_rules_refuses_clashes_and_unknown_points(runtime: Runtime) -> None:
    point = await create_point(runtime)
    rule = await new_rule(runtime, "${group_size} > 90", points=[point])
    async with transaction(runtime.sessions) as session:
        with pytest.raises(Conflict, match="exists"):
            await add_rule(
                session,
                name=rule.name,
                expression="${group_size} > 1",
                severity="info",
                created_by="test",
                now=utcnow(),
            )
        with pytest.raises(NotFound, match="nowhere-"):
            await add_rule(
                session,
                name=f"Other {uuid.uuid4().hex[:6]}",
                expression="${group_size} > 1",
                severity="info",
                points=[f"nowhere-{uuid.uuid4().hex[:6]}"],
                created_by="test",
                now=utcnow(),
            )
        added = await add_rule(
            session,
            name=f"Future {uuid.uuid4().hex[:6]}",
            expression="${children_alone} > 0",
            severity="critical",
            points=[point.nas_id],
            created_by="test",
            now=utcnow(),
        )
        assert added.unknown == ("children_alone",)
        added.rule.active = False
    await disable(runtime, rule)


async def test_acknowledge_then_close_names_who_acted(runtime: Runtime) -> None:
    point = await create_point(runtime)
    rule = await new_rule(runtime, "selected(${risks}, 'violence')", points=[point])
    try:
        await submit(runtime, point, violent_answers())
        await submit(runtime, point, violent_answers())
        first, second = await alerts_at(runtime, point)
        now = utcnow()
        async with transaction(runtime.sessions) as session:
            acked = await acknowledge_alert(
                session, alert_id=first.id, by="user:ana@ngo.example", now=now, webhooks=True
            )
            assert acked.state == "acknowledged" and acked.acknowledged_by == "user:ana@ngo.example"
            with pytest.raises(InvalidInput, match="only an open alert"):
                await acknowledge_alert(
                    session, alert_id=first.id, by="user:x", now=now, webhooks=False
                )
            closed = await close_alert(
                session, alert_id=first.id, by="user:luis@ngo.example", now=now, webhooks=True
            )
            assert closed.state == "closed" and closed.closed_by == "user:luis@ngo.example"
            assert closed.acknowledged_by == "user:ana@ngo.example"
            with pytest.raises(InvalidInput, match="closed already"):
                await close_alert(session, alert_id=first.id, by="cli", now=now, webhooks=False)
            # Open straight to closed is allowed too.
            direct = await close_alert(
                session, alert_id=second.id, by="cli", now=now, webhooks=False
            )
            assert direct.state == "closed" and direct.acknowledged_at is None
            with pytest.raises(NotFound):
                await close_alert(session, alert_id=10**9, by="cli", now=now, webhooks=False)
            listed = {v.alert.id for v in await list_alerts(session, state="closed")}
            assert {first.id, second.id} <= listed
            with pytest.raises(InvalidInput, match="unknown state"):
                await list_alerts(session, state="solved")
        events = [d.event for d in await deliveries_of(runtime, [first])]
        assert events == ["alert.acknowledged", "alert.closed"]
    finally:
        await disable(runtime, rule)


async def test_alerts_and_webhook_bodies_hold_no_identifier(runtime: Runtime) -> None:
    point = await create_point(runtime)
    rule = await new_rule(
        runtime,
        "selected(${risks}, 'violence') or ${coming_from_place} != '' or ${group_size} > 0",
        points=[point],
    )
    email = f"Seeded.Person.{uuid.uuid4().hex[:8]}@Example.org"
    mac = "02-00-00-5E-ED-01"
    try:
        # The person even typed a contact in a free-text answer the rule reads (not the email
        # itself: other tests check that no response holds their example.org addresses).
        typed = f"escribame a {uuid.uuid4().hex[:8]}@correo.test o al 3001234567"
        answers = violent_answers(coming_from_place=typed)
        await submit(runtime, point, answers, email=email, mac=mac, webhooks=True)
        (alert,) = await alerts_at(runtime, point)
        (delivery,) = await deliveries_of(runtime, [alert])
        body: dict[str, Any] = json.loads(delivery.body)
        assert body["event"] == "alert.opened" and delivery.event == "alert.opened"
        assert body["alert"] == {
            "id": alert.id,
            "kind": "response",
            "severity": "critical",
            "state": "open",
            "title": rule.name,
            "point": point.nas_id,
            "point_name": point.name,
            "department": point.department,
            "municipality": point.municipality,
            "created_at": alert.created_at.isoformat(),
            "details": {"group_size": 2, "risks": ["violence"]},
        }
        key = person_key(TEST_SECRET_KEY, email)
        seeded = [email, mac, mac.replace("-", ":"), key, typed, "3001234567"]
        for text in (dump(alert), delivery.body):
            for value in seeded:
                assert value.lower() not in text.lower(), value
    finally:
        await disable(runtime, rule)

"""Alert rules, the alerts survey responses raise, and their handling. Flushes, never commits.

A response that matches an active rule watching its point raises one alert, in the response's
own transaction: a survey and its alerts are stored whole or not at all. The alert copies the
rule's name and severity and only the answers the rule reads (never free text); it holds no
response id, person key, email, MAC or address. Handling goes open -> acknowledged -> closed
(or open -> closed), each step naming who acted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.alerts.repository import AlertRepository
from cautiva.alerts.rules import check_rule, details, matches
from cautiva.alerts.webhook import Event, enqueue
from cautiva.errors import Conflict, InvalidInput, NotFound
from cautiva.forms.service import FORMS, FormCache, list_forms, parsed_form, shipped_forms
from cautiva.models import (
    Alert,
    AlertKind,
    AlertRule,
    AlertState,
    DeliveryState,
    Point,
    WebhookDelivery,
)
from cautiva.points.service import get_point
from cautiva.surveys import Form, load_xlsform

MAX_ACTOR_LENGTH = 280
MAX_OFFLINE_MINUTES = 30 * 1440
MIN_OFFLINE_MINUTES = 5
STATES = tuple(s.value for s in AlertState)


@dataclass(frozen=True, slots=True)
class RuleView:
    """A rule and the points it is limited to (none: every point)."""

    rule: AlertRule
    points: tuple[Point, ...]


@dataclass(frozen=True, slots=True)
class AddedRule:
    """A rule just added, and the questions it reads that no published form asks."""

    rule: AlertRule
    unknown: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AlertView:
    """An alert and its point."""

    alert: Alert
    point: Point


async def published_questions(session: AsyncSession, *, cache: FormCache = FORMS) -> set[str]:
    """The question names of the newest version of every published form (else the shipped)."""
    newest: dict[str, Any] = {}
    for row in await list_forms(session):
        newest.setdefault(row.form_id, row)
    forms: list[Form]
    if newest:
        forms = [await parsed_form(session, row, cache=cache) for row in newest.values()]
    else:
        forms = [load_xlsform(shipped.data) for shipped in shipped_forms()]
    return {question.name for form in forms for question in form.questions()}


async def add_rule(
    session: AsyncSession,
    *,
    name: str,
    expression: str,
    severity: str,
    points: Sequence[str] = (),
    created_by: str,
    now: datetime,
    cache: FormCache = FORMS,
) -> AddedRule:
    """Check and store a rule, limited to `points` (ids or NAS-Identifiers; none: every point)."""
    checked = check_rule(
        name=name,
        expression=expression,
        severity=severity,
        questions=await published_questions(session, cache=cache),
    )
    repository = AlertRepository(session)
    if await repository.rule_named(checked.name) is not None:
        raise Conflict(f"a rule named {checked.name!r} exists")
    point_ids = []
    for ref in points:
        point = await get_point(session, ref=ref.strip())
        if not point.active:
            raise InvalidInput(f"point {point.nas_id!r} is retired")
        point_ids.append(point.id)
    rule = await repository.add_rule(
        AlertRule(
            name=checked.name,
            expression=checked.expression.source,
            severity=checked.severity.value,
            active=True,
            created_by=created_by[:MAX_ACTOR_LENGTH],
            created_at=now,
            updated_at=now,
        ),
        point_ids,
    )
    return AddedRule(rule, checked.unknown)


async def list_rules(session: AsyncSession) -> list[RuleView]:
    """Every rule with its points, active ones first."""
    repository = AlertRepository(session)
    rules = await repository.rules()
    scoped = await repository.rule_points([rule.id for rule in rules])
    return [RuleView(rule, tuple(scoped.get(rule.id, ()))) for rule in rules]


async def get_rule(session: AsyncSession, *, ref: str) -> AlertRule:
    """The rule named `ref`, else the rule with that id; NotFound otherwise."""
    repository = AlertRepository(session)
    rule = await repository.rule_named(" ".join(ref.split()))
    if rule is None and ref.strip().isdigit():
        rule = await repository.rule(int(ref))
    if rule is None:
        raise NotFound(f"no alert rule named {ref!r}")
    return rule


async def set_rule_active(
    session: AsyncSession, *, ref: str, active: bool, now: datetime
) -> AlertRule:
    """Enable or disable a rule (by name or id); a disabled rule raises nothing."""
    rule = await get_rule(session, ref=ref)
    rule.active = active
    rule.updated_at = now
    await session.flush()
    return rule


async def raise_response_alerts(
    session: AsyncSession,
    *,
    point: Point,
    answers: Mapping[str, Any],
    form: Form,
    now: datetime,
    webhooks: bool,
) -> list[Alert]:
    """Raise an alert for each active rule watching `point` that the stored answers match.

    Never raises for a rule's sake: one that cannot be evaluated is logged and skipped.
    """
    repository = AlertRepository(session)
    raised = []
    for rule in await repository.active_rules_for(point.id):
        if not matches(rule.expression, answers, today=now.date()):
            continue
        alert = await repository.add_alert(
            Alert(
                kind=AlertKind.RESPONSE.value,
                rule_id=rule.id,
                point_id=point.id,
                severity=rule.severity,
                title=rule.name,
                details=details(rule.expression, answers, form),
                state=AlertState.OPEN.value,
                created_at=now,
            )
        )
        if webhooks:
            await enqueue(session, event=Event.OPENED, alert=alert, point=point, now=now)
        raised.append(alert)
    return raised


def check_state(state: str | None) -> str | None:
    """The state filter if it is one (None or empty: every state), else InvalidInput."""
    if not state or state == "all":
        return None
    if state not in STATES:
        raise InvalidInput(f"unknown state {state!r} (one of: {', '.join(STATES)}, all)")
    return state


async def list_alerts(
    session: AsyncSession, *, state: str | None = None, limit: int = 200
) -> list[AlertView]:
    """The newest alerts, in one state or all, with their points."""
    checked = check_state(state)
    rows = await AlertRepository(session).alerts(states=(checked,) if checked else (), limit=limit)
    return [AlertView(alert, point) for alert, point in rows]


async def get_alert(session: AsyncSession, *, alert_id: int) -> Alert:
    """The alert with this id, else NotFound."""
    alert = await AlertRepository(session).alert(alert_id)
    if alert is None:
        raise NotFound(f"no alert {alert_id}")
    return alert


async def acknowledge_alert(
    session: AsyncSession, *, alert_id: int, by: str, now: datetime, webhooks: bool
) -> Alert:
    """Mark an open alert as being handled by `by`."""
    alert = await get_alert(session, alert_id=alert_id)
    if alert.state != AlertState.OPEN.value:
        raise InvalidInput(f"alert {alert_id} is {alert.state}: only an open alert is acknowledged")
    alert.state = AlertState.ACKNOWLEDGED.value
    alert.acknowledged_at, alert.acknowledged_by = now, by[:MAX_ACTOR_LENGTH]
    await session.flush()
    await _announce(session, Event.ACKNOWLEDGED, alert, now=now, webhooks=webhooks)
    return alert


async def close_alert(
    session: AsyncSession, *, alert_id: int, by: str, now: datetime, webhooks: bool
) -> Alert:
    """Close an open or acknowledged alert in the name of `by`."""
    alert = await get_alert(session, alert_id=alert_id)
    if alert.state == AlertState.CLOSED.value:
        raise InvalidInput(f"alert {alert_id} is closed already")
    return await close(session, alert, by=by, now=now, webhooks=webhooks)


async def close(
    session: AsyncSession, alert: Alert, *, by: str, now: datetime, webhooks: bool
) -> Alert:
    """Close `alert` (its operational key is freed for the next one) and announce it."""
    alert.state = AlertState.CLOSED.value
    alert.closed_at, alert.closed_by = now, by[:MAX_ACTOR_LENGTH]
    alert.open_key = None
    await session.flush()
    await _announce(session, Event.CLOSED, alert, now=now, webhooks=webhooks)
    return alert


async def _announce(
    session: AsyncSession, event: Event, alert: Alert, *, now: datetime, webhooks: bool
) -> None:
    if not webhooks:
        return
    point = await session.get(Point, alert.point_id)
    if point is not None:
        await enqueue(session, event=event, alert=alert, point=point, now=now)


async def list_deliveries(
    session: AsyncSession, *, states: Sequence[str] = (), limit: int = 200
) -> Sequence[WebhookDelivery]:
    """The newest webhook deliveries in these states (none: every state)."""
    known = {s.value for s in DeliveryState}
    for state in states:
        if state not in known:
            raise InvalidInput(f"unknown delivery state {state!r} (one of: {', '.join(known)})")
    return await AlertRepository(session).deliveries(states=states, limit=limit)


async def retry_delivery(
    session: AsyncSession, *, delivery_id: int, now: datetime
) -> WebhookDelivery:
    """Put a dead delivery back in the queue with a fresh set of attempts, due now."""
    delivery = await AlertRepository(session).delivery(delivery_id)
    if delivery is None:
        raise NotFound(f"no webhook delivery {delivery_id}")
    if delivery.state != DeliveryState.DEAD.value:
        raise InvalidInput(
            f"webhook delivery {delivery_id} is {delivery.state}: only a dead one is retried"
        )
    delivery.state = DeliveryState.PENDING.value
    delivery.attempts = 0
    delivery.next_attempt_at = now
    await session.flush()
    return delivery


async def set_offline_minutes(
    session: AsyncSession, *, point_ref: str, minutes: int | None
) -> Point:
    """Set how long a point may stay unheard before an alert (None: the global setting)."""
    if minutes is not None and not MIN_OFFLINE_MINUTES <= minutes <= MAX_OFFLINE_MINUTES:
        raise InvalidInput(
            f"minutes must be between {MIN_OFFLINE_MINUTES} and {MAX_OFFLINE_MINUTES}"
        )
    point = await get_point(session, ref=point_ref)
    point.offline_alert_minutes = minutes
    await session.flush()
    return point

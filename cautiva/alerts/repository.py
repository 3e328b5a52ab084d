"""Queries on alert rules, alerts and webhook deliveries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.models import (
    Alert,
    AlertRule,
    AlertRulePoint,
    DeliveryState,
    Point,
    Response,
    WebhookDelivery,
)


class AlertRepository:
    """All database access for alert rules, alerts and webhook deliveries."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def rule(self, rule_id: int) -> AlertRule | None:
        """Return the rule with this id, or None."""
        return await self.session.get(AlertRule, rule_id)

    async def rule_named(self, name: str) -> AlertRule | None:
        """Return the rule with this name, or None."""
        return await self.session.scalar(select(AlertRule).where(AlertRule.name == name))

    async def rules(self) -> Sequence[AlertRule]:
        """Return every rule, active ones first, then by name."""
        query = select(AlertRule).order_by(AlertRule.active.desc(), AlertRule.name)
        return (await self.session.scalars(query)).all()

    async def rule_points(self, rule_ids: Sequence[int]) -> dict[int, list[Point]]:
        """Return the points each of these rules is limited to (absent: every point)."""
        if not rule_ids:
            return {}
        query = (
            select(AlertRulePoint.rule_id, Point)
            .join(Point, Point.id == AlertRulePoint.point_id)
            .where(AlertRulePoint.rule_id.in_(rule_ids))
            .order_by(Point.name, Point.id)
        )
        scoped: dict[int, list[Point]] = {}
        for rule_id, point in await self.session.execute(query):
            scoped.setdefault(rule_id, []).append(point)
        return scoped

    async def active_rules_for(self, point_id: int) -> Sequence[AlertRule]:
        """Return the active rules that watch this point (scoped to it, or to every point)."""
        scoped = AlertRulePoint.rule_id == AlertRule.id
        query = (
            select(AlertRule)
            .where(
                AlertRule.active.is_(True),
                or_(
                    ~exists().where(scoped),
                    exists().where(scoped, AlertRulePoint.point_id == point_id),
                ),
            )
            .order_by(AlertRule.id)
        )
        return (await self.session.scalars(query)).all()

    async def add_rule(self, rule: AlertRule, point_ids: Sequence[int]) -> AlertRule:
        """Add a rule limited to `point_ids` (none: every point) and flush it."""
        self.session.add(rule)
        await self.session.flush()
        for point_id in sorted(set(point_ids)):
            self.session.add(AlertRulePoint(rule_id=rule.id, point_id=point_id))
        await self.session.flush()
        return rule

    async def add_alert(self, alert: Alert) -> Alert:
        """Add an alert and flush it so it gets its id."""
        self.session.add(alert)
        await self.session.flush()
        return alert

    async def alert(self, alert_id: int) -> Alert | None:
        """Return the alert with this id, or None."""
        return await self.session.get(Alert, alert_id)

    async def alerts(
        self, *, states: Sequence[str] = (), point_id: int | None = None, limit: int = 200
    ) -> Sequence[tuple[Alert, Point]]:
        """Return the newest alerts (in these states, at this point) with their points."""
        query = select(Alert, Point).join(Point, Point.id == Alert.point_id)
        if states:
            query = query.where(Alert.state.in_(states))
        if point_id is not None:
            query = query.where(Alert.point_id == point_id)
        query = query.order_by(Alert.created_at.desc(), Alert.id.desc()).limit(limit)
        return [(alert, point) for alert, point in await self.session.execute(query)]

    async def open_keyed(self, prefix: str) -> dict[str, Alert]:
        """Return the unclosed operational alerts whose open key starts with `prefix`, by key."""
        query = select(Alert).where(
            Alert.open_key.is_not(None), Alert.open_key.startswith(prefix, autoescape=True)
        )
        return {a.open_key: a for a in await self.session.scalars(query) if a.open_key}

    async def responses_between(self, start: datetime, end: datetime) -> dict[int, int]:
        """Return the number of responses per point created in [start, end)."""
        query = (
            select(Response.point_id, func.count())
            .where(Response.created_at >= start, Response.created_at < end)
            .group_by(Response.point_id)
        )
        return {point_id: int(count) for point_id, count in await self.session.execute(query)}

    async def add_delivery(self, delivery: WebhookDelivery) -> WebhookDelivery:
        """Add a webhook delivery and flush it so it gets its id."""
        self.session.add(delivery)
        await self.session.flush()
        return delivery

    async def delivery(self, delivery_id: int) -> WebhookDelivery | None:
        """Return the delivery with this id, or None."""
        return await self.session.get(WebhookDelivery, delivery_id)

    async def deliveries(
        self, *, states: Sequence[str] = (), limit: int = 200
    ) -> Sequence[WebhookDelivery]:
        """Return the newest deliveries in these states (none: every state)."""
        query = select(WebhookDelivery)
        if states:
            query = query.where(WebhookDelivery.state.in_(states))
        query = query.order_by(WebhookDelivery.id.desc()).limit(limit)
        return (await self.session.scalars(query)).all()

    async def due_deliveries(self, *, now: datetime, limit: int) -> Sequence[WebhookDelivery]:
        """Return pending deliveries due by `now`, oldest first, locked against other workers.

        On PostgreSQL the rows are locked (`FOR UPDATE SKIP LOCKED`): another process running
        the same query passes over them. SQLite has one writer at a time and ignores it.
        """
        query = (
            select(WebhookDelivery)
            .where(
                WebhookDelivery.state == DeliveryState.PENDING.value,
                WebhookDelivery.next_attempt_at <= now,
            )
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.scalars(query)).all()

    async def lease(self, delivery_id: int, *, now: datetime, until: datetime) -> bool:
        """Push a due delivery's next attempt to `until`; False when someone else took it."""
        result = await self.session.execute(
            update(WebhookDelivery)
            .where(
                and_(
                    WebhookDelivery.id == delivery_id,
                    WebhookDelivery.state == DeliveryState.PENDING.value,
                    WebhookDelivery.next_attempt_at <= now,
                )
            )
            .values(next_attempt_at=until)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

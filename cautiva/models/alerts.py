"""Alert rules, the alerts they raise, and the webhook deliveries that announce them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cautiva.models.base import Base, utcnow


class Severity(StrEnum):
    """How urgent an alert is."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class AlertKind(StrEnum):
    """What raised an alert: a survey answer matching a rule, or the state of a point."""

    RESPONSE = "response"
    POINT_OFFLINE = "point_offline"
    SURVEY_DROP = "survey_drop"


class AlertState(StrEnum):
    """Where an alert is in its handling."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


class DeliveryState(StrEnum):
    """Where a webhook delivery is: still to send, sent, or given up (the dead-letter list)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


class AlertRule(Base):
    """A rule in the survey expression language; a response that matches raises an alert."""

    __tablename__ = "alert_rules"
    __table_args__ = (
        CheckConstraint("severity IN ('info', 'warning', 'critical')", name="severity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    expression: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(280), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AlertRulePoint(Base):
    """A point a rule is limited to; a rule with no rows here watches every point."""

    __tablename__ = "alert_rule_points"

    rule_id: Mapped[int] = mapped_column(
        ForeignKey("alert_rules.id", ondelete="CASCADE"), primary_key=True
    )
    point_id: Mapped[int] = mapped_column(
        ForeignKey("points.id", ondelete="CASCADE"), primary_key=True
    )


class Alert(Base):
    """One alert at a point. It never holds the email, the person key or the response id.

    `details` holds only what the alert is about (the answers the rule reads, or the figures
    of an operational alert). `open_key` is set while an operational alert is not closed, so a
    point has at most one open alert of each operational kind.
    """

    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint("kind IN ('response', 'point_offline', 'survey_drop')", name="kind"),
        CheckConstraint("state IN ('open', 'acknowledged', 'closed')", name="state"),
        CheckConstraint("severity IN ('info', 'warning', 'critical')", name="severity"),
        Index("ix_alerts_state_created_at", "state", "created_at"),
        Index("uq_alerts_open_key", "open_key", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_rules.id", ondelete="SET NULL"), index=True
    )
    point_id: Mapped[int] = mapped_column(ForeignKey("points.id", ondelete="CASCADE"), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default=AlertState.OPEN.value)
    open_key: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(280))
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(280))


class WebhookDelivery(Base):
    """One webhook message (its exact signed body) and how sending it went."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'delivered', 'dead')", name="state"),
        Index("ix_webhook_deliveries_state_next", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int | None] = mapped_column(
        ForeignKey("alerts.id", ondelete="SET NULL"), index=True
    )
    event: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]

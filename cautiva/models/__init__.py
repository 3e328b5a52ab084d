"""Typed SQLAlchemy models; every schema change goes through an Alembic revision."""

from cautiva.models.alerts import (
    Alert,
    AlertKind,
    AlertRule,
    AlertRulePoint,
    AlertState,
    DeliveryState,
    Severity,
    WebhookDelivery,
)
from cautiva.models.analytics import PointSeenHour, ServiceDay
from cautiva.models.base import Base, utcnow
from cautiva.models.content import PortalCounter, PortalText, TextKey
from cautiva.models.fieldwork import PointLocation, PointStatus
from cautiva.models.grants import Grant
from cautiva.models.points import NasType, Point
from cautiva.models.referrals import ReferralService
from cautiva.models.sessions import AccountingSession, Disconnect
from cautiva.models.staff import ApiToken, AuditEntry, User
from cautiva.models.surveys import FormKind, PointForms, Response, SurveyForm

__all__ = [
    "AccountingSession",
    "Alert",
    "AlertKind",
    "AlertRule",
    "AlertRulePoint",
    "AlertState",
    "ApiToken",
    "AuditEntry",
    "Base",
    "DeliveryState",
    "Disconnect",
    "FormKind",
    "Grant",
    "NasType",
    "Point",
    "PointForms",
    "PointLocation",
    "PointSeenHour",
    "PointStatus",
    "PortalCounter",
    "PortalText",
    "ReferralService",
    "Response",
    "ServiceDay",
    "Severity",
    "SurveyForm",
    "TextKey",
    "User",
    "WebhookDelivery",
    "utcnow",
]

"""Typed SQLAlchemy models; every schema change goes through an Alembic revision."""

from cautiva.models.base import Base, utcnow
from cautiva.models.content import PortalCounter, PortalText, TextKey
from cautiva.models.fieldwork import PointLocation, PointStatus
from cautiva.models.grants import Grant
from cautiva.models.points import NasType, Point
from cautiva.models.sessions import AccountingSession, Disconnect
from cautiva.models.staff import ApiToken, AuditEntry, User
from cautiva.models.surveys import FormKind, PointForms, Response, SurveyForm

__all__ = [
    "AccountingSession",
    "ApiToken",
    "AuditEntry",
    "Base",
    "Disconnect",
    "FormKind",
    "Grant",
    "NasType",
    "Point",
    "PointForms",
    "PointLocation",
    "PointStatus",
    "PortalCounter",
    "PortalText",
    "Response",
    "SurveyForm",
    "TextKey",
    "User",
    "utcnow",
]

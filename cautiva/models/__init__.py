"""Typed SQLAlchemy models; every schema change goes through an Alembic revision."""

from cautiva.models.base import Base, utcnow
from cautiva.models.grants import Grant
from cautiva.models.points import NasType, Point
from cautiva.models.sessions import AccountingSession, Disconnect

__all__ = ["AccountingSession", "Base", "Disconnect", "Grant", "NasType", "Point", "utcnow"]

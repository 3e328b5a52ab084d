"""Grants: the short-lived one-time credentials the portal issues for one free session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cautiva.models.base import Base, utcnow


class Grant(Base):
    """A credential bound to a point (and a device MAC once known) worth some seconds online.

    The password is not stored: it is an HMAC of the username under the server's secret key.
    """

    __tablename__ = "grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("points.id", ondelete="CASCADE"), index=True)
    mac: Mapped[str | None] = mapped_column(String(17))
    # Pseudonymous: a keyed HMAC of the person's normalised email, never the email itself.
    person_key: Mapped[str | None] = mapped_column(String(64), index=True)
    seconds_allowed: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    login_deadline: Mapped[datetime]
    first_login_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

"""Wi-Fi points: one router (NAS) each, found by its NAS-Identifier."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cautiva.models.base import Base, utcnow


class NasType(StrEnum):
    """The router software at a point, which decides reply attributes and login style."""

    MIKROTIK = "mikrotik"
    CHILLI = "chilli"
    USPOT = "uspot"


class Point(Base):
    """A Wi-Fi point: its router's identity and secrets, its place, and its state."""

    __tablename__ = "points"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # The open network's name; NULL broadcasts the point's name (cut to 32 UTF-8 octets).
    ssid: Mapped[str | None] = mapped_column(String(32))
    nas_id: Mapped[str] = mapped_column(String(64), unique=True)
    nas_type: Mapped[str] = mapped_column(String(16))
    radius_secret: Mapped[str] = mapped_column(String(128))
    uam_secret: Mapped[str | None] = mapped_column(String(128))
    # Optional: when set, packets for this point must come from this source address.
    fixed_address: Mapped[str | None] = mapped_column(String(64))
    coa_port: Mapped[int] = mapped_column(Integer, default=3799)
    # Old RouterOS (before 7.15) cannot send Message-Authenticator; BlastRADIUS says require it.
    require_message_authenticator: Mapped[bool] = mapped_column(Boolean, default=True)
    rate_down_kbps: Mapped[int | None] = mapped_column(Integer)
    rate_up_kbps: Mapped[int | None] = mapped_column(Integer)
    department: Mapped[str | None] = mapped_column(String(120))
    municipality: Mapped[str | None] = mapped_column(String(120))
    site_type: Mapped[str | None] = mapped_column(String(40))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # Minutes unheard before an offline alert; NULL: CAUTIVA_ALERTS_OFFLINE_MINUTES.
    offline_alert_minutes: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    retired_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

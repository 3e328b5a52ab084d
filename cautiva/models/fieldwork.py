"""Where points have stood over time, and the signs of life their routers send."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cautiva.models.base import Base


class PointLocation(Base):
    """One place a point stood, from `valid_from` until `valid_to` (None: it is there now).

    A move closes the current row and opens a new one, so figures can be split by place.
    """

    __tablename__ = "point_locations"
    __table_args__ = (Index("ix_point_locations_point_from", "point_id", "valid_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("points.id", ondelete="CASCADE"))
    department: Mapped[str | None] = mapped_column(String(120))
    municipality: Mapped[str | None] = mapped_column(String(120))
    site_type: Mapped[str | None] = mapped_column(String(40))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    valid_from: Mapped[datetime]
    valid_to: Mapped[datetime | None]
    moved_by: Mapped[str] = mapped_column(String(280), default="")


class PointStatus(Base):
    """The latest signs of life of a point's router (one row per point, overwritten)."""

    __tablename__ = "point_status"

    point_id: Mapped[int] = mapped_column(
        ForeignKey("points.id", ondelete="CASCADE"), primary_key=True
    )
    heartbeat_at: Mapped[datetime | None]
    uptime_seconds: Mapped[int | None] = mapped_column(Integer)
    load_1m: Mapped[float | None] = mapped_column(Float)
    # The last RFC 5997 Status-Server the RADIUS server answered for this point.
    status_server_at: Mapped[datetime | None]

"""Aggregates that outlive the raw records they were counted from."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from cautiva.models.base import Base


class ServiceDay(Base):
    """A point's service figures for one UTC day, written when the day's raw sessions are purged.

    Only purged days have a row: figures for later days are counted from the sessions
    themselves, so a day is never counted twice. `devices` is distinct per day, so summing it
    over days overstates the distinct devices of a longer period.
    """

    __tablename__ = "service_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    point_id: Mapped[int] = mapped_column(
        ForeignKey("points.id", ondelete="CASCADE"), primary_key=True
    )
    sessions: Mapped[int] = mapped_column(Integer, default=0)
    devices: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    input_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    output_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    logins: Mapped[int] = mapped_column(Integer, default=0)


class PointSeenHour(Base):
    """An hour in which a point's router showed a sign of life: uptime is counted from these."""

    __tablename__ = "point_seen_hours"

    point_id: Mapped[int] = mapped_column(
        ForeignKey("points.id", ondelete="CASCADE"), primary_key=True
    )
    hour: Mapped[datetime] = mapped_column(primary_key=True)

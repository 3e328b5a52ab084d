"""The directory of services a person can be referred to, per area."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cautiva.models.base import Base, utcnow


class ReferralService(Base):
    """A service people can go to: what it offers, where, when, and in which languages.

    `department` and `municipality` give its area (NULL municipality: the whole department;
    NULL department: everywhere). `needs` lists the survey's need codes it answers (`food`,
    `shelter`...); `languages` the language codes its staff speak.
    """

    __tablename__ = "referral_services"
    __table_args__ = (Index("ix_referral_services_area", "department", "municipality"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(60))
    needs: Mapped[list[str]] = mapped_column(JSON, default=list)
    department: Mapped[str | None] = mapped_column(String(120))
    municipality: Mapped[str | None] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(300), default="")
    hours: Mapped[str] = mapped_column(String(200), default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

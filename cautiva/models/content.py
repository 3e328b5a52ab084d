"""What the splash portal shows besides the survey, and how many people get through each step."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from cautiva.models.base import Base, utcnow


class TextKey(StrEnum):
    """The portal texts an operator can edit."""

    TERMS = "terms"
    MESSAGE = "message"


class PortalText(Base):
    """An operator's text for one language, at one point or (point_id NULL) at every point.

    Bodies are plain text, paragraphs separated by blank lines; the portal escapes them. A
    missing row means the text that ships with Cautiva.
    """

    __tablename__ = "portal_texts"
    __table_args__ = (
        CheckConstraint("key IN ('terms', 'message')", name="key"),
        UniqueConstraint("key", "lang", "point_id", name="uq_portal_texts_key_lang_point_id"),
        # NULLs are distinct in a unique constraint, so the constraint above allows any number
        # of global rows per (key, lang): this partial index allows one.
        Index(
            "uq_portal_texts_key_lang_global",
            "key",
            "lang",
            unique=True,
            postgresql_where=text("point_id IS NULL"),
            sqlite_where=text("point_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(32))
    lang: Mapped[str] = mapped_column(String(16))
    point_id: Mapped[int | None] = mapped_column(ForeignKey("points.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    # A file name in the portal's media folder (only for 'message'), never a path or a URL.
    video: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PortalCounter(Base):
    """How many times a step of the portal happened at a point on a day: no one is identified."""

    __tablename__ = "portal_counters"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    point_id: Mapped[int] = mapped_column(
        ForeignKey("points.id", ondelete="CASCADE"), primary_key=True
    )
    event: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)

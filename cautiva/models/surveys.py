"""Published survey forms, the forms each point shows, and the responses people send."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cautiva.models.base import Base, utcnow

# JSONB on PostgreSQL so analysts can index and query answers; plain JSON text on SQLite.
AnswersJSON = JSON().with_variant(JSONB(), "postgresql")


class FormKind(StrEnum):
    """Who a form is for: first-timers get the full form, returning people the short one."""

    FULL = "full"
    FOLLOWUP = "followup"


class SurveyForm(Base):
    """One published version of an XLSForm, kept byte for byte as the survey team sent it.

    A (form_id, version) is published once and never changes, so every response that names it
    can be read against exactly the questions the person saw.
    """

    __tablename__ = "survey_forms"
    __table_args__ = (
        UniqueConstraint("form_id", "version", name="uq_survey_forms_form_id_version"),
        CheckConstraint("kind IN ('full', 'followup')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    # Loaded only when a form is parsed (once per process and version): raise on any other touch.
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True, deferred_raiseload=True)
    sha256: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)


class PointForms(Base):
    """The forms a point shows; a missing row or a NULL means the newest shipped default."""

    __tablename__ = "point_forms"

    point_id: Mapped[int] = mapped_column(
        ForeignKey("points.id", ondelete="CASCADE"), primary_key=True
    )
    full_form_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_forms.id", ondelete="RESTRICT")
    )
    followup_form_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_forms.id", ondelete="RESTRICT")
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Response(Base):
    """One completed survey: the stored answers of the exact form version shown, never the email.

    `person_key` is a keyed HMAC of the normalised email (it only tells a returning person);
    `device_mac` is only a hint for spotting a double submission (phones randomise MACs).
    """

    __tablename__ = "responses"
    __table_args__ = (
        # Dashboards read responses per point and period; the duplicate check reads the same.
        Index("ix_responses_point_id_created_at", "point_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # RESTRICT: survey history outlives nothing it points at; points are retired, not deleted.
    point_id: Mapped[int] = mapped_column(ForeignKey("points.id", ondelete="RESTRICT"))
    survey_form_id: Mapped[int] = mapped_column(
        ForeignKey("survey_forms.id", ondelete="RESTRICT"), index=True
    )
    # Copied from the form so exports need no join to say which questions were asked.
    form_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(64))
    lang: Mapped[str] = mapped_column(String(16))
    answers: Mapped[dict[str, Any]] = mapped_column(AnswersJSON)
    # NULL once `cautiva purge` has dropped it: the answers stay, the link to a person goes.
    person_key: Mapped[str | None] = mapped_column(String(64), index=True)
    # Not `returning`: a keyword since SQLite 3.35 that SQLAlchemy's SQLite dialect leaves unquoted.
    returning_person: Mapped[bool] = mapped_column(Boolean)
    device_mac: Mapped[str | None] = mapped_column(String(17))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

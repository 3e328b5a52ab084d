"""What a figure covers: a period of UTC days and a set of points (one, a place, or all)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Date
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from cautiva.errors import InvalidInput
from cautiva.models import Point

MAX_DAYS = 3 * 366


@dataclass(frozen=True, slots=True)
class Period:
    """The UTC days from `since` to `until`, both included."""

    since: date
    until: date

    def __post_init__(self) -> None:
        if self.until < self.since:
            raise InvalidInput(f"the period ends ({self.until}) before it starts ({self.since})")
        if (self.until - self.since).days >= MAX_DAYS:
            raise InvalidInput(f"a period covers at most {MAX_DAYS} days")

    @property
    def start(self) -> datetime:
        """The first instant of the period."""
        return datetime.combine(self.since, time.min, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.until + timedelta(days=1), time.min, tzinfo=UTC)

    def days(self) -> list[date]:
        """Every day of the period, in order."""
        return [self.since + timedelta(days=n) for n in range((self.until - self.since).days + 1)]


@dataclass(frozen=True, slots=True)
class Scope:
    """Which points a figure covers: one point, a department or municipality, or all (empty).

    Places are the points' current ones: a point that moved counts where it stands now.
    """

    point_id: int | None = None
    department: str | None = None
    municipality: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """WHERE conditions on `points` for this scope."""
        conditions: list[ColumnElement[bool]] = []
        if self.point_id is not None:
            conditions.append(Point.id == self.point_id)
        if self.department:
            conditions.append(Point.department == self.department)
        if self.municipality:
            conditions.append(Point.municipality == self.municipality)
        return conditions


class utc_day(FunctionElement[date]):  # noqa: N801 - reads as the SQL function it compiles to
    """The UTC calendar day of a timestamp column, in SQL, on PostgreSQL and SQLite alike."""

    type = Date()
    inherit_cache = True
    name = "utc_day"


@compiles(utc_day, "postgresql")
def _utc_day_postgresql(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    # timestamptz::date uses the session's TimeZone; pin UTC whatever the server says.
    return f"CAST(timezone('UTC', {compiler.process(element.clauses, **kw)}) AS DATE)"


@compiles(utc_day, "sqlite")
def _utc_day_sqlite(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite holds these columns as UTC text 'YYYY-MM-DD HH:MM:SS.ffffff'.
    return f"date({compiler.process(element.clauses, **kw)})"

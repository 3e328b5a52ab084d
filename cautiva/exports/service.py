"""Streaming survey responses out as plain rows, one per response, safe to hand to analysts.

A row holds the point and its place, the UTC date, the form and version, the language, whether
the person was returning, a pseudonym and the answers. It never holds the email (never stored),
the device MAC, grant or session identifiers, the database id or the stored person key: the
person key becomes an HMAC under a random key made for this export alone and then dropped, so
the same person has one pseudonym within an export and none that links two exports.

Memory stays constant whatever the size: a first query learns which forms the range uses (for
the columns) and the last id, then responses are read in keyset pages (id > last, by id).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.exports.repository import ExportRepository, ResponseFilter
from cautiva.forms.service import FORMS, FormCache, parsed_form
from cautiva.surveys.forms import QuestionType

PSEUDONYM_LENGTH = 12
DEFAULT_BATCH = 1000

FIXED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("response", "#meta+id"),
    ("point", "#loc+code"),
    ("point_name", "#loc+name"),
    ("department", "#adm1+name"),
    ("municipality", "#adm2+name"),
    ("date", "#date+reported"),
    ("form_id", "#meta+form"),
    ("version", "#meta+version"),
    ("lang", "#meta+lang"),
    ("returning", "#meta+returning"),
    ("person", "#meta+pseudonym"),
)
"""The columns every export starts with, and their HXL hashtags."""

_FIXED_NAMES = frozenset(name for name, _ in FIXED_COLUMNS)
_NOT_ATTRIBUTE = re.compile(r"[^a-z0-9_]+")

Cell = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class ExportColumns:
    """The columns of one export: fixed ones, then one per question, and where to stop reading.

    `questions` maps each answer column to the question name it holds (they differ only when a
    question is named like a fixed column: then the column is `answer_<name>`).
    """

    names: tuple[str, ...]
    questions: tuple[tuple[str, str], ...]
    hxl: tuple[str, ...]
    last_id: int | None


def hxl_tag(question: str) -> str:
    """The HXL hashtag of an answer column: `#indicator+<name>`, the name made attribute-safe."""
    attribute = _NOT_ATTRIBUTE.sub("_", question.lower()).strip("_") or "answer"
    if not attribute[0].isalpha():
        attribute = f"q{attribute}"
    return f"#indicator+{attribute}"


def day_range(since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    """The UTC instants [start, end) covering the days from `since` to `until`, both included."""
    start = None if since is None else datetime.combine(since, time.min, tzinfo=UTC)
    end = None if until is None else datetime.combine(until + timedelta(days=1), time.min, UTC)
    return start, end


def _filter(since: date | None, until: date | None, point_id: int | None) -> ResponseFilter:
    start, end = day_range(since, until)
    return ResponseFilter(start=start, end=end, point_id=point_id)


async def export_columns(
    session: AsyncSession,
    *,
    since: date | None,
    until: date | None,
    point_id: int | None,
    cache: FormCache = FORMS,
) -> ExportColumns:
    """Learn the columns of an export: the union of the question names of the forms it uses."""
    rows, last_id = await ExportRepository(session).forms_used(_filter(since, until, point_id))
    questions: dict[str, str] = {}
    for row in rows:
        form = await parsed_form(session, row, cache=cache)
        for question in form.questions():
            if question.type is QuestionType.NOTE:
                continue  # read, never answered, never stored
            column = f"answer_{question.name}" if question.name in _FIXED_NAMES else question.name
            questions.setdefault(column, question.name)
    fixed = tuple(name for name, _ in FIXED_COLUMNS)
    return ExportColumns(
        names=fixed + tuple(questions),
        questions=tuple(questions.items()),
        hxl=tuple(tag for _, tag in FIXED_COLUMNS) + tuple(map(hxl_tag, questions.values())),
        last_id=last_id,
    )


def answer_cell(value: Any) -> Cell:
    """An answer as one cell: select_multiple lists joined by spaces (XLSForm), missing empty."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list):
        return " ".join(str(item) for item in value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


async def export_rows(
    session: AsyncSession,
    *,
    since: date | None,
    until: date | None,
    point_id: int | None,
    batch: int = DEFAULT_BATCH,
    columns: ExportColumns | None = None,
) -> AsyncIterator[dict[str, Cell]]:
    """Yield one plain row per matching response, by id, reading `batch` responses at a time.

    Pass the `columns` learnt by `export_columns` to write a header first; without them they
    are learnt here. Responses stored after the columns were learnt are left out.
    """
    if batch < 1:
        raise ValueError("batch must be positive")
    if columns is None:
        columns = await export_columns(session, since=since, until=until, point_id=point_id)
    if columns.last_id is None:
        return
    where = _filter(since, until, point_id)
    repository = ExportRepository(session)
    # Made for this run and dropped with it: pseudonyms link rows of one export, never two.
    pseudonym_key = secrets.token_bytes(32)
    number = 0
    after = 0
    while True:
        page: Sequence[Any] = await repository.page(
            where, after=after, last_id=columns.last_id, limit=batch
        )
        for response in page:
            number += 1
            answers = response.answers or {}
            row: dict[str, Cell] = {
                "response": number,
                "point": response.nas_id,
                "point_name": response.name,
                "department": response.department,
                "municipality": response.municipality,
                "date": response.created_at.astimezone(UTC).date().isoformat(),
                "form_id": response.form_id,
                "version": response.version,
                "lang": response.lang,
                "returning": response.returning_person,
                "person": _pseudonym(pseudonym_key, response.person_key),
            }
            for column, question in columns.questions:
                row[column] = answer_cell(answers.get(question))
            yield row
        if len(page) < batch:
            return
        after = page[-1].id


def _pseudonym(key: bytes, person_key: str | None) -> str | None:
    if person_key is None:
        return None  # purged: the response no longer links to anyone
    digest = hmac.new(key, person_key.encode(), hashlib.sha256).hexdigest()
    return digest[:PSEUDONYM_LENGTH]

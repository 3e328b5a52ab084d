"""Publishing XLSForm versions, assigning them to points and resolving the form a person sees.

A (form_id, version) is immutable once published: the same bytes again are a no-op, other bytes
are refused, so a response's form and version always name the questions that were asked. Points
without an assignment show the newest published version of the shipped default forms.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.errors import Conflict, InvalidInput, NotFound
from cautiva.forms.repository import SurveyFormRepository
from cautiva.models import FormKind, Point, PointForms, SurveyForm, utcnow
from cautiva.points.service import get_point
from cautiva.surveys import Form, load_xlsform
from cautiva.surveys.defaults import DEFAULT_FORM, FOLLOWUP_FORM

MAX_IDENTIFIER_LENGTH = 64
# The shipped forms' ids: unassigned points show the newest published version of these, so a
# survey team adapts the defaults everywhere by publishing a new version under the same form_id.
DEFAULT_FORM_IDS = {FormKind.FULL: "cautiva_default", FormKind.FOLLOWUP: "cautiva_followup"}
SHIPPED_FORMS = ((FormKind.FULL, DEFAULT_FORM), (FormKind.FOLLOWUP, FOLLOWUP_FORM))


class FormCache:
    """Parsed forms per (form_id, version, sha256): pyxform is slow, published bytes never change.

    The digest is part of the key so that two databases (tests, a restored backup) holding
    different bytes under one version can never be served each other's questions.
    """

    def __init__(self, max_entries: int = 64) -> None:
        self.max_entries = max_entries
        self._forms: OrderedDict[tuple[str, str, str], Form] = OrderedDict()

    def get(self, row: SurveyForm) -> Form | None:
        """Return the parsed form of `row` if it is cached."""
        key = (row.form_id, row.version, row.sha256)
        form = self._forms.get(key)
        if form is not None:
            self._forms.move_to_end(key)
        return form

    def put(self, row: SurveyForm, form: Form) -> None:
        """Remember the parsed form of `row`, dropping the least recently used beyond the cap."""
        self._forms[(row.form_id, row.version, row.sha256)] = form
        while len(self._forms) > self.max_entries:
            self._forms.popitem(last=False)


FORMS = FormCache()
"""The process's cache; services take another one as an argument in tests if they need to."""


@dataclass(frozen=True, slots=True)
class ShippedForm:
    """A form that ships with Cautiva, read once per process."""

    kind: FormKind
    form_id: str
    version: str
    data: bytes


@cache
def shipped_forms() -> tuple[ShippedForm, ...]:
    """The default and follow-up forms in the package (parsed once, to learn id and version)."""
    shipped = []
    for kind, path in SHIPPED_FORMS:
        data = Path(path).read_bytes()
        form = load_xlsform(data)
        shipped.append(ShippedForm(kind, form.form_id, form.version, data))
    return tuple(shipped)


def read_workbook(data: bytes) -> Form:
    """Parse XLSForm bytes, refusing anything that is not a readable .xlsx as InvalidInput."""
    return load_xlsform(data)


def _check_identifiers(form: Form) -> None:
    for name, value in (("form_id", form.form_id), ("version", form.version)):
        if len(value) > MAX_IDENTIFIER_LENGTH:
            raise InvalidInput(
                f"settings: {name} must be at most {MAX_IDENTIFIER_LENGTH} characters: {value!r}"
            )


async def publish_form(
    session: AsyncSession, *, data: bytes, kind: FormKind, cache: FormCache = FORMS
) -> SurveyForm:
    """Validate an XLSForm workbook and publish it; the same bytes again return the same row."""
    form = read_workbook(data)
    _check_identifiers(form)
    digest = hashlib.sha256(data).hexdigest()
    repository = SurveyFormRepository(session)
    existing = await repository.get_version(form.form_id, form.version)
    if existing is not None:
        if existing.sha256 != digest:
            raise Conflict(
                f"form {form.form_id!r} version {form.version!r} is published already with "
                "other contents: give the changed form a new version in its settings sheet"
            )
        if existing.kind != kind.value:
            raise Conflict(
                f"form {form.form_id!r} version {form.version!r} is published already "
                f"as a {existing.kind} form"
            )
        return existing
    other_kinds = await repository.kinds_of(form.form_id) - {kind.value}
    if other_kinds:
        raise Conflict(
            f"form {form.form_id!r} is published as a {other_kinds.pop()} form; "
            f"it cannot also be a {kind.value} form (use another form_id)"
        )
    row = await repository.add(
        SurveyForm(
            form_id=form.form_id,
            version=form.version,
            kind=kind.value,
            data=data,
            sha256=digest,
            published_at=utcnow(),
        )
    )
    cache.put(row, form)
    return row


async def list_forms(session: AsyncSession) -> Sequence[SurveyForm]:
    """Return every published form version, by form_id then newest first."""
    return await SurveyFormRepository(session).list()


async def assign_form(
    session: AsyncSession,
    *,
    point_ref: str,
    form_id: str,
    version: str | None = None,
    kind: FormKind,
) -> PointForms:
    """Make a point show `form_id` (this version, or the newest published) to people of `kind`."""
    point = await get_point(session, ref=point_ref)
    repository = SurveyFormRepository(session)
    if version is None:
        row = await repository.newest(form_id)
        if row is None:
            raise NotFound(f"no published form {form_id!r}")
    else:
        row = await repository.get_version(form_id, version)
        if row is None:
            raise NotFound(f"no published form {form_id!r} version {version!r}")
    if row.kind != kind.value:
        raise InvalidInput(f"form {form_id!r} is a {row.kind} form, not a {kind.value} form")
    assignment = await repository.assignment(point.id)
    if assignment is None:
        assignment = PointForms(point_id=point.id, updated_at=utcnow())
        await repository.add_assignment(assignment)
    if kind is FormKind.FULL:
        assignment.full_form_id = row.id
    else:
        assignment.followup_form_id = row.id
    assignment.updated_at = utcnow()
    await session.flush()
    return assignment


async def parsed_form(session: AsyncSession, row: SurveyForm, *, cache: FormCache = FORMS) -> Form:
    """Return the parsed form of a published row, reading its bytes only on a cache miss."""
    form = cache.get(row)
    if form is None:
        form = load_xlsform(await SurveyFormRepository(session).data(row.id))
        cache.put(row, form)
    return form


async def resolve_form(
    session: AsyncSession, *, point: Point, returning: bool, cache: FormCache = FORMS
) -> tuple[SurveyForm, Form]:
    """Return the form (row and parsed) a person at `point` answers: follow-up when returning."""
    kind = FormKind.FOLLOWUP if returning else FormKind.FULL
    repository = SurveyFormRepository(session)
    row: SurveyForm | None = None
    assignment = await repository.assignment(point.id)
    if assignment is not None:
        assigned = assignment.followup_form_id if returning else assignment.full_form_id
        if assigned is not None:
            row = await repository.get(assigned)
    if row is None:
        row = await repository.newest(DEFAULT_FORM_IDS[kind])
    if row is None:
        # A fresh database: publish the shipped forms in this transaction and use them.
        await ensure_default_forms(session, cache=cache)
        row = await repository.newest(DEFAULT_FORM_IDS[kind])
    if row is None:
        raise NotFound(f"no {kind.value} form is published")
    return row, await parsed_form(session, row, cache=cache)


async def ensure_default_forms(
    session: AsyncSession, *, cache: FormCache = FORMS
) -> list[SurveyForm]:
    """Publish the shipped default and follow-up forms unless their versions are published."""
    repository = SurveyFormRepository(session)
    rows = []
    for shipped in shipped_forms():
        row = await repository.get_version(shipped.form_id, shipped.version)
        if row is None:
            row = await publish_form(session, data=shipped.data, kind=shipped.kind, cache=cache)
        rows.append(row)
    return rows

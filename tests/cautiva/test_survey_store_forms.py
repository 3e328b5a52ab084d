"""Publishing XLSForm versions, assigning them to points, and resolving the form people see."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from io import BytesIO

import pytest
from openpyxl import Workbook  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.database import transaction
from cautiva.errors import Conflict, InvalidInput, NotFound
from cautiva.forms.service import (
    DEFAULT_FORM_IDS,
    FormCache,
    assign_form,
    ensure_default_forms,
    list_forms,
    publish_form,
    resolve_form,
    shipped_forms,
)
from cautiva.models import FormKind
from cautiva.runtime import Runtime
from factories import create_point


def survey_workbook(form_id: str, version: str = "1", label: str = "How many?") -> bytes:
    """A one-page XLSForm: a required number from 1 to 20 and a free text."""
    book = Workbook()
    survey = book.active
    survey.title = "survey"
    for row in (
        ["type", "name", "label::English (en)", "required", "constraint"],
        ["begin_group", "page", "Page", "", ""],
        ["integer", "size", label, "yes", ". >= 1 and . <= 20"],
        ["text", "place", "Where?", "", ""],
        ["end_group", "", "", "", ""],
    ):
        survey.append(row)
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", "label::English (en)"])
    choices.append(["yn", "yes", "Yes"])
    settings = book.create_sheet("settings")
    settings.append(["form_id", "version", "default_language"])
    settings.append([form_id, version, "English (en)"])
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def unique_form_id() -> str:
    return f"test_{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def rolled_back(runtime: Runtime) -> AsyncIterator[AsyncSession]:
    """A session whose work is thrown away: for tests that publish new default versions."""
    async with runtime.sessions() as session:
        await session.begin()
        try:
            yield session
        finally:
            await session.rollback()


async def test_publish_is_immutable_per_version(runtime: Runtime) -> None:
    form_id = unique_form_id()
    data = survey_workbook(form_id)
    async with transaction(runtime.sessions) as session:
        row = await publish_form(session, data=data, kind=FormKind.FULL)
        assert (row.form_id, row.version, row.kind) == (form_id, "1", "full")
        assert len(row.sha256) == 64
    async with transaction(runtime.sessions) as session:
        again = await publish_form(session, data=data, kind=FormKind.FULL)
        assert again.id == row.id and again.published_at == row.published_at
        with pytest.raises(Conflict, match="other contents"):
            await publish_form(
                session, data=survey_workbook(form_id, label="How many people?"), kind=FormKind.FULL
            )
        with pytest.raises(Conflict, match="as a full form"):
            await publish_form(session, data=data, kind=FormKind.FOLLOWUP)
        with pytest.raises(Conflict, match="cannot also be a followup"):
            await publish_form(
                session, data=survey_workbook(form_id, version="2"), kind=FormKind.FOLLOWUP
            )
        newer = await publish_form(
            session, data=survey_workbook(form_id, version="2"), kind=FormKind.FULL
        )
        listed = [(r.form_id, r.version) for r in await list_forms(session)]
    assert newer.id != row.id
    assert listed.index((form_id, "2")) == listed.index((form_id, "1")) - 1


async def test_publish_refuses_what_the_engine_refuses(runtime: Runtime) -> None:
    async with transaction(runtime.sessions) as session:
        with pytest.raises(InvalidInput, match="settings: version is missing"):
            await publish_form(
                session, data=survey_workbook(unique_form_id(), version=""), kind=FormKind.FULL
            )
        with pytest.raises(InvalidInput, match=r"not an \.xlsx workbook"):
            await publish_form(session, data=b"type,name\nnote,hello\n", kind=FormKind.FULL)
        with pytest.raises(InvalidInput, match="cannot read the workbook"):
            await publish_form(session, data=survey_workbook("x")[:500], kind=FormKind.FULL)
        with pytest.raises(InvalidInput, match="at most 64"):
            await publish_form(session, data=survey_workbook("f" * 65), kind=FormKind.FULL)


async def test_defaults_are_published_once(runtime: Runtime) -> None:
    async with transaction(runtime.sessions) as session:
        first = await ensure_default_forms(session)
    async with transaction(runtime.sessions) as session:
        second = await ensure_default_forms(session)
    assert [r.id for r in first] == [r.id for r in second]
    assert [(r.form_id, r.kind) for r in first] == [
        ("cautiva_default", "full"),
        ("cautiva_followup", "followup"),
    ]
    assert [s.version for s in shipped_forms()] == [r.version for r in first]


async def test_unassigned_point_gets_the_defaults(runtime: Runtime) -> None:
    point = await create_point(runtime)
    async with transaction(runtime.sessions) as session:
        full, full_form = await resolve_form(session, point=point, returning=False)
        followup, followup_form = await resolve_form(session, point=point, returning=True)
    assert (full.form_id, full_form.form_id) == ("cautiva_default", "cautiva_default")
    assert (followup.form_id, followup_form.version) == ("cautiva_followup", followup.version)


async def test_newest_default_version_wins(runtime: Runtime, rolled_back: AsyncSession) -> None:
    point = await create_point(runtime)
    session = rolled_back
    await ensure_default_forms(session)
    newer = await publish_form(
        session, data=survey_workbook(DEFAULT_FORM_IDS[FormKind.FULL], "2099.1"), kind=FormKind.FULL
    )
    row, form = await resolve_form(session, point=point, returning=False)
    assert row.id == newer.id and form.version == "2099.1"


async def test_assignment_pins_a_version_per_kind(runtime: Runtime) -> None:
    point = await create_point(runtime)
    form_id = unique_form_id()
    async with transaction(runtime.sessions) as session:
        one = await publish_form(session, data=survey_workbook(form_id, "1"), kind=FormKind.FULL)
        two = await publish_form(session, data=survey_workbook(form_id, "2"), kind=FormKind.FULL)
        assigned = await assign_form(
            session, point_ref=point.nas_id, form_id=form_id, version="1", kind=FormKind.FULL
        )
        assert (assigned.full_form_id, assigned.followup_form_id) == (one.id, None)
    cache = FormCache()
    async with transaction(runtime.sessions) as session:
        row, form = await resolve_form(session, point=point, returning=False, cache=cache)
        assert (row.id, form.form_id, form.version) == (one.id, form_id, "1")
        # Returning people still get the default follow-up form.
        row, _ = await resolve_form(session, point=point, returning=True, cache=cache)
        assert row.form_id == "cautiva_followup"
        # No version: the newest published.
        await assign_form(session, point_ref=str(point.id), form_id=form_id, kind=FormKind.FULL)
        row, form = await resolve_form(session, point=point, returning=False, cache=cache)
        assert (row.id, form.version) == (two.id, "2")


async def test_assignment_refusals(runtime: Runtime) -> None:
    point = await create_point(runtime)
    form_id = unique_form_id()
    async with transaction(runtime.sessions) as session:
        await publish_form(session, data=survey_workbook(form_id), kind=FormKind.FULL)
        with pytest.raises(InvalidInput, match="not a followup form"):
            await assign_form(
                session, point_ref=point.nas_id, form_id=form_id, kind=FormKind.FOLLOWUP
            )
        with pytest.raises(NotFound):
            await assign_form(
                session, point_ref=point.nas_id, form_id=form_id, version="9", kind=FormKind.FULL
            )
        with pytest.raises(NotFound):
            await assign_form(
                session, point_ref=point.nas_id, form_id="no_such_form", kind=FormKind.FULL
            )
        with pytest.raises(NotFound):
            await assign_form(
                session, point_ref="no-such-point", form_id=form_id, kind=FormKind.FULL
            )


async def test_parsed_forms_are_cached_per_version(runtime: Runtime) -> None:
    point = await create_point(runtime)
    cache = FormCache(max_entries=1)
    async with transaction(runtime.sessions) as session:
        _, first = await resolve_form(session, point=point, returning=False, cache=cache)
        _, again = await resolve_form(session, point=point, returning=False, cache=cache)
        assert again is first
        await resolve_form(session, point=point, returning=True, cache=cache)
        _, reparsed = await resolve_form(session, point=point, returning=False, cache=cache)
    assert reparsed is not first and reparsed == first

"""Survey responses on the real database: consent, person keys, returning people, duplicates."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, Table, func, inspect, select
from sqlalchemy.engine import Connection
from test_survey_store_forms import survey_workbook, unique_form_id

from cautiva.database import transaction
from cautiva.errors import InvalidAnswers, InvalidInput
from cautiva.forms.service import assign_form, publish_form
from cautiva.models import FormKind, Grant, Point, Response, utcnow
from cautiva.responses.service import (
    SubmittedResponse,
    is_returning,
    normalise_email,
    person_key,
    submit_response,
)
from cautiva.runtime import Runtime
from cautiva.settings import Settings, SurveySettings
from conftest import TEST_SECRET_KEY
from factories import create_point, full_answers

PERIOD = timedelta(days=30)
MAC = "02-00-00-AA-BB-01"


def followup_answers() -> dict[str, object]:
    return {"current_country": "ECU", "going_to": "PER", "needs": ["water"]}


def new_email() -> str:
    return f"Viajera.{uuid.uuid4().hex[:8]}@Example.org"


async def submit(
    runtime: Runtime,
    point: Point,
    *,
    email: str,
    answers: Mapping[str, object],
    now: datetime | None = None,
    mac: str | None = MAC,
    **overrides: Any,
) -> SubmittedResponse:
    """Submit in a transaction of its own, as the portal will."""
    arguments: dict[str, Any] = {
        "lang": "es",
        "age_confirmed": True,
        "terms_accepted": True,
        "secret_key": runtime.settings.secret_key,
        "rules": runtime.rules,
        "login_window": runtime.settings.session.login_window,
        "returning_period": PERIOD,
        "duplicate_window": timedelta(seconds=runtime.settings.survey.duplicate_window),
        **overrides,
    }
    async with transaction(runtime.sessions) as session:
        return await submit_response(
            session,
            point=point,
            email=email,
            answers=answers,
            mac=mac,
            now=now or utcnow(),
            **arguments,
        )


async def responses_of(runtime: Runtime, email: str) -> list[Response]:
    key = person_key(TEST_SECRET_KEY, email)
    async with transaction(runtime.sessions) as session:
        result = await session.execute(
            select(Response).where(Response.person_key == key).order_by(Response.id)
        )
        return list(result.scalars())


async def grants_of(runtime: Runtime, email: str) -> int:
    key = person_key(TEST_SECRET_KEY, email)
    async with transaction(runtime.sessions) as session:
        query = select(func.count()).select_from(Grant).where(Grant.person_key == key)
        return int((await session.execute(query)).scalar_one())


def test_person_key_normalises_and_is_keyed() -> None:
    key = person_key("k" * 32, "  Ana.Maria@Example.ORG ")
    assert key == person_key("k" * 32, "ana.maria@example.org")
    assert len(key) == 64 and int(key, 16) >= 0
    assert key != person_key("j" * 32, "ana.maria@example.org")
    assert normalise_email("José@Correo.co") == "josé@correo.co"


@pytest.mark.parametrize(
    "email",
    [
        "",
        "ana",
        "ana@",
        "@example.org",
        "ana@example",
        "ana maria@example.org",
        "a@b@c.org",
        "ana@-example.org",
        "ana@example.c",
        "a" * 250 + "@x.org",
        "ana@example..org",
    ],
)
def test_person_key_refuses_what_is_not_an_email(email: str) -> None:
    with pytest.raises(InvalidInput, match="not a valid email"):
        person_key("k" * 32, email)


async def test_submission_stores_answers_and_grants(runtime: Runtime) -> None:
    point = await create_point(runtime)
    email = new_email()
    answers = full_answers() | {"nationality_other": "hidden: not asked", "risks_help": "yes"}
    now = utcnow()
    submitted = await submit(runtime, point, email=email, answers=answers, now=now)
    assert submitted.returning is False
    assert submitted.grant.mac == "02:00:00:AA:BB:01"
    assert submitted.grant.login_deadline == now + timedelta(
        seconds=runtime.settings.session.login_window
    )
    (stored,) = await responses_of(runtime, email)
    assert stored.id == submitted.response_id
    assert (stored.form_id, stored.point_id, stored.lang) == ("cautiva_default", point.id, "es")
    assert stored.device_mac == "02:00:00:AA:BB:01" and stored.returning_person is False
    # Hidden questions are never stored; calculations are.
    assert "nationality_other" not in stored.answers and "risks_help" not in stored.answers
    assert "welcome" not in stored.answers
    assert stored.answers["children"] == 1 and stored.answers["needs"] == ["food", "shelter"]
    async with transaction(runtime.sessions) as session:
        grant = await session.get(Grant, submitted.grant.id)
        assert grant is not None
        assert grant.person_key == stored.person_key and grant.point_id == point.id


async def test_the_email_is_stored_nowhere(runtime: Runtime) -> None:
    point = await create_point(runtime)
    email = new_email()
    await submit(runtime, point, email=f"  {email} ", answers=full_answers())
    needles = {email, email.lower(), email.split("@")[0].lower()}

    def scan(connection: Connection) -> list[str]:
        found = []
        for name in inspect(connection).get_table_names():
            table = Table(name, MetaData(), autoload_with=connection)
            for row in connection.execute(select(table)):
                for column, value in row._mapping.items():
                    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                    if any(needle in text.lower() for needle in needles):
                        found.append(f"{name}.{column}")
        return found

    async with runtime.engine.connect() as connection:
        assert await connection.run_sync(scan) == []


async def test_consent_and_email_are_checked_first(runtime: Runtime) -> None:
    point = await create_point(runtime)
    with pytest.raises(InvalidAnswers) as refused:
        await submit(
            runtime,
            point,
            email="not an email",
            answers={},
            age_confirmed=False,
            terms_accepted=False,
            lang="en",
        )
    assert refused.value.errors == {
        "age_confirmed": "The survey is only for people aged 18 or over.",
        "terms_accepted": "Please accept the terms of use to continue.",
        "email": "Write a valid email address.",
    }
    email = new_email()
    with pytest.raises(InvalidAnswers) as refused:
        await submit(runtime, point, email=email, answers=full_answers(), age_confirmed=False)
    assert set(refused.value.errors) == {"age_confirmed"}
    assert await responses_of(runtime, email) == [] and await grants_of(runtime, email) == 0


async def test_answers_are_validated_against_the_form(runtime: Runtime) -> None:
    point = await create_point(runtime)
    email = new_email()
    answers = full_answers() | {"favourite_colour": "blue", "needs": ["none", "food"]}
    del answers["going_to"]
    with pytest.raises(InvalidAnswers) as refused:
        await submit(runtime, point, email=email, answers=answers, lang="en")
    assert refused.value.errors == {
        "favourite_colour": "unknown question",
        "going_to": "This question is required.",
        "needs": "'Nothing right now' cannot go with other answers.",
    }
    assert isinstance(refused.value, InvalidInput)
    assert await responses_of(runtime, email) == [] and await grants_of(runtime, email) == 0


async def test_returning_people_get_the_followup_form(runtime: Runtime) -> None:
    first_point, second_point = await create_point(runtime), await create_point(runtime)
    email = new_email()
    start = utcnow()
    first = await submit(runtime, first_point, email=email, answers=full_answers(), now=start)
    assert first.returning is False
    async with transaction(runtime.sessions) as session:
        key = person_key(TEST_SECRET_KEY, email)
        assert await is_returning(session, key, PERIOD, now=start + timedelta(days=2))
        assert not await is_returning(session, key, PERIOD, now=start + timedelta(days=31))
    # Any point: the returning person gets the short form, and the full one is refused.
    later = start + timedelta(days=2)
    with pytest.raises(InvalidAnswers) as refused:
        await submit(runtime, second_point, email=email.upper(), answers=full_answers(), now=later)
    assert "group_size" in refused.value.errors
    second = await submit(
        runtime, second_point, email=email.upper(), answers=followup_answers(), now=later
    )
    assert second.returning is True
    # After the returning period the full form applies again.
    much_later = start + timedelta(days=40)
    third = await submit(runtime, first_point, email=email, answers=full_answers(), now=much_later)
    assert third.returning is False
    stored = await responses_of(runtime, email)
    assert [(r.form_id, r.returning_person, r.point_id) for r in stored] == [
        ("cautiva_default", False, first_point.id),
        ("cautiva_followup", True, second_point.id),
        ("cautiva_default", False, first_point.id),
    ]


async def test_a_repeated_submission_is_stored_once(runtime: Runtime) -> None:
    point = await create_point(runtime)
    email = new_email()
    now = utcnow()
    first = await submit(runtime, point, email=email, answers=full_answers(), now=now)
    # A double tap: same point, device, person and answers (the MAC written another way).
    again = await submit(
        runtime,
        point,
        email=email,
        answers=full_answers(),
        now=now + timedelta(seconds=20),
        mac="02:00:00:aa:bb:01",
    )
    assert again.response_id == first.response_id and again.returning is False
    assert again.grant.username != first.grant.username
    assert len(await responses_of(runtime, email)) == 1 and await grants_of(runtime, email) == 2
    # Another device, or past the window: a new response (by then a returning person).
    other = await submit(
        runtime,
        point,
        email=email,
        answers=followup_answers(),
        now=now + timedelta(seconds=30),
        mac="02:00:00:AA:BB:02",
    )
    late = await submit(
        runtime, point, email=email, answers=followup_answers(), now=now + timedelta(seconds=400)
    )
    assert len({first.response_id, other.response_id, late.response_id}) == 3
    assert other.returning and late.returning


async def test_no_mac_means_no_duplicate_detection(runtime: Runtime) -> None:
    point = await create_point(runtime)
    email = new_email()
    now = utcnow()
    first = await submit(runtime, point, email=email, answers=full_answers(), now=now, mac=None)
    assert first.grant.mac is None
    with pytest.raises(InvalidAnswers):  # returning now: the full form no longer applies
        await submit(runtime, point, email=email, answers=full_answers(), now=now, mac=None)
    with pytest.raises(InvalidInput, match="not a MAC"):
        await submit(runtime, point, email=email, answers=followup_answers(), mac="nonsense")


async def test_an_assigned_form_is_recorded_with_its_version(runtime: Runtime) -> None:
    point = await create_point(runtime)
    form_id = unique_form_id()
    async with transaction(runtime.sessions) as session:
        await publish_form(session, data=survey_workbook(form_id, "3"), kind=FormKind.FULL)
        await assign_form(session, point_ref=point.nas_id, form_id=form_id, kind=FormKind.FULL)
    email = new_email()
    with pytest.raises(InvalidAnswers) as refused:
        await submit(runtime, point, email=email, answers={"size": 30}, lang="en")
    assert refused.value.errors == {"size": "Please check this answer."}
    await submit(runtime, point, email=email, answers={"size": "4", "place": ""})
    (stored,) = await responses_of(runtime, email)
    assert (stored.form_id, stored.version, stored.answers) == (form_id, "3", {"size": 4})


def test_survey_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert (SurveySettings().returning_days, SurveySettings().duplicate_window) == (30, 300)
    monkeypatch.setenv("CAUTIVA_SURVEY_RETURNING_DAYS", "7")
    monkeypatch.setenv("CAUTIVA_SURVEY_DUPLICATE_WINDOW", "60")
    settings = Settings(secret_key=TEST_SECRET_KEY, data_dir=tmp_path)
    assert (settings.survey.returning_days, settings.survey.duplicate_window) == (7, 60)

"""Downloading the responses export from the admin: same rows as the CLI, no identifiers."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy import select
from test_admin_pages import sign_in, user

from cautiva.database import transaction
from cautiva.models import AuditEntry, Point, Response
from cautiva.responses.service import SubmittedResponse, submit_response
from cautiva.runtime import Runtime
from factories import create_point, full_answers
from portal_api.app import create_app

DAY1 = datetime(2025, 4, 1, 9, tzinfo=UTC)
MAC = "02:00:00:AB:CD:01"


async def submit(runtime: Runtime, point: Point, email: str, now: datetime) -> SubmittedResponse:
    """One survey through the service, in its own transaction."""
    async with transaction(runtime.sessions) as session:
        return await submit_response(
            session,
            point=point,
            lang="fr",
            email=email,
            age_confirmed=True,
            terms_accepted=True,
            answers=full_answers(),
            mac=MAC,
            now=now,
            secret_key=runtime.settings.secret_key,
            rules=runtime.rules,
            login_window=900,
            returning_period=timedelta(0),
            duplicate_window=timedelta(0),
        )


@pytest.fixture
async def http(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """A cookie-keeping client on the portal app."""
    app = create_app(runtime.settings)
    app.state.runtime = runtime
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as client:
        yield client


async def test_an_analyst_downloads_a_points_responses_as_csv_and_xlsx(
    runtime: Runtime, http: httpx.AsyncClient
) -> None:
    point, other = await create_point(runtime), await create_point(runtime)
    emails = [f"p{n}.{uuid.uuid4().hex[:6]}@example.org" for n in range(4)]
    submitted = [
        await submit(runtime, point, emails[n], DAY1 + timedelta(hours=n)) for n in range(3)
    ]
    submitted.append(await submit(runtime, other, emails[3], DAY1))
    await sign_in(http, *await user(runtime, "analyst"))
    form = await http.get("/admin/exports")
    assert form.status_code == 200
    assert point.nas_id in form.text

    query = {"point": point.nas_id, "from": DAY1.date().isoformat(), "hxl": "1"}
    got = await http.get("/admin/exports/responses", params=query | {"format": "csv"})
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/csv")
    assert "attachment" in got.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(got.text)))
    assert rows[0]["point"].startswith("#")  # the HXL row
    answers = rows[1:]
    assert [row["point"] for row in answers] == [point.nas_id] * 3
    async with runtime.sessions() as session:
        keys = (
            await session.scalars(
                select(Response.person_key).where(
                    Response.id.in_([s.response_id for s in submitted])
                )
            )
        ).all()
    assert len(keys) == 4
    for key in keys:
        assert key and key not in got.text
    for email in emails:
        assert email not in got.text and email.split("@")[0] not in got.text
    assert MAC not in got.text and MAC.replace(":", "-") not in got.text
    assert all(s.grant.username not in got.text for s in submitted)

    book = await http.get("/admin/exports/responses", params=query | {"format": "xlsx"})
    assert book.status_code == 200
    sheet = load_workbook(io.BytesIO(book.content), read_only=True).active
    assert sum(1 for _ in sheet.iter_rows()) == 2 + 3

    async with runtime.sessions() as session:
        actions = (
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.target == point.nas_id)
            )
        ).all()
    assert actions.count("export.responses") == 2


async def test_bad_filters_get_a_reason_and_technicians_cannot_export(
    runtime: Runtime, http: httpx.AsyncClient
) -> None:
    await sign_in(http, *await user(runtime, "analyst"))
    for params, reason in [
        ({"from": "2026-13-01"}, "YYYY-MM-DD"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "after it ends"),
        ({"format": "ods"}, "csv or xlsx"),
        ({"point": "no-such-point"}, "no-such-point"),
    ]:
        got = await http.get("/admin/exports/responses", params=params)
        assert got.status_code == 400, params
        assert reason in got.text

    http.cookies.clear()
    await sign_in(http, *await user(runtime, "technician"))
    assert (await http.get("/admin/exports/responses")).status_code == 403
    assert (await http.get("/admin/exports")).status_code == 403


async def test_an_analyst_downloads_the_figures_for_sharing_with_small_cells_empty(
    runtime: Runtime, http: httpx.AsyncClient
) -> None:
    point = await create_point(runtime)
    for n in range(7):
        await submit(runtime, point, f"a{n}.{uuid.uuid4().hex[:6]}@example.org", DAY1)
    await sign_in(http, *await user(runtime, "analyst"))
    query = {"by": "point", "point": point.nas_id, "hxl": "1"}
    got = await http.get("/admin/exports/aggregates", params=query)
    assert got.status_code == 200
    assert "attachment" in got.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(got.text)))
    tags, (row,) = rows[0], rows[1:]
    assert tags["responses"].startswith("#")
    # 7 responses of a mother and her small son each: 7 women 18-59, 7 boys 0-5.
    assert (row["responses"], row["people"]) == ("7", "14")
    assert (row["female_18_59"], row["male_0_5"]) == ("7", "7")
    assert row["female_0_5"] == "0"

    few = await create_point(runtime)
    for n in range(2):
        await submit(runtime, few, f"b{n}.{uuid.uuid4().hex[:6]}@example.org", DAY1)
    got = await http.get("/admin/exports/aggregates", params={"by": "point", "point": few.nas_id})
    (row,) = list(csv.DictReader(io.StringIO(got.text)))
    assert row["responses"] == "" and row["people"] == ""
    assert "2" not in {row[c] for c in ("female_18_59", "male_0_5", "responses")}
    assert row["notes"]

    book = await http.get("/admin/exports/aggregates", params=query | {"format": "xlsx"})
    assert book.status_code == 200
    assert load_workbook(io.BytesIO(book.content), read_only=True).active is not None
    bad = await http.get("/admin/exports/aggregates", params={"by": "village"})
    assert bad.status_code == 400 and "Group by" in bad.text

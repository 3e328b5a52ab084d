"""Services near you: shown after the survey when some meet the declared needs, then the login.

Every service here is scoped to a department name only this test's points use: a national
service (no department) would show at every other test's points too.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest
from sqlalchemy import select

from cautiva.database import transaction
from cautiva.funnel.service import event_counts
from cautiva.models import NasType, Point, Response
from cautiva.points.service import NewPoint, add_point
from cautiva.referrals.service import ServiceFields, add_service, set_service_active
from cautiva.runtime import Runtime
from factories import full_answers
from portal_api.app import create_app
from splash_pages import EXTERNAL, SIZE_BUDGET, SURVEY_PAGES, Page, Splash, mikrotik_query

NEEDS_PAGE = 3
"""The index of the needs-and-risks page in SURVEY_PAGES."""


@pytest.fixture
async def http(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """A cookie-keeping client on the portal app."""
    app = create_app(runtime.settings)
    app.state.runtime = runtime  # the lifespan would build its own; tests share theirs
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://portal.test"
    ) as client:
        yield client


def department() -> str:
    """A department name no other test uses."""
    return f"Dept {uuid.uuid4().hex[:8]}"


async def placed_point(runtime: Runtime, where: str, municipality: str = "Ipiales") -> Point:
    """A MikroTik point in `where`."""
    async with transaction(runtime.sessions) as session:
        return await add_point(
            session,
            new=NewPoint(
                name="Terminal",
                nas_id=f"nas-{uuid.uuid4().hex[:10]}",
                nas_type=NasType.MIKROTIK,
                department=where,
                municipality=municipality,
            ),
        )


async def add(runtime: Runtime, *services: ServiceFields) -> list[int]:
    """Add services to the directory; their ids."""
    async with transaction(runtime.sessions) as session:
        return [(await add_service(session, fields=s)).service.id for s in services]


def email() -> str:
    """An address no other test uses."""
    return f"persona.{uuid.uuid4().hex[:8]}@example.org"


async def walk(
    splash: Splash, lang: str, address: str, needs_page: dict[str, str | list[str]]
) -> Page:
    """From the router's redirect through the whole survey; the page after the last one."""
    await splash.open(mikrotik_query())
    await splash.submit(lang=lang)
    await splash.submit({"age": "yes", "terms": "yes"})
    page = await splash.submit({"email": address})
    for index, answers in enumerate(SURVEY_PAGES):
        assert page.status == 200 and page.has_state(), page.text
        page = await splash.submit(needs_page if index == NEEDS_PAGE else answers)
        if index == NEEDS_PAGE and "risks_help" in page.flow.names():
            page = await splash.submit(needs_page)  # the question it revealed, now seen
    return page


def check_small_and_closed(page: Page) -> None:
    """The splash page rules: small, no script, nothing loaded from elsewhere."""
    assert len(page.response.content) < SIZE_BUDGET, len(page.response.content)
    assert "<script" not in page.html.lower()
    assert not EXTERNAL.search(page.html)
    policy = page.response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert page.response.headers["cache-control"] == "no-store"


def login_form(page: Page) -> bool:
    """Whether the page carries the router login."""
    return any(form.attrs.get("id") == "login" for form in page.forms)


async def stored(runtime: Runtime, point: Point) -> list[Response]:
    """The responses stored at `point`."""
    async with transaction(runtime.sessions) as session:
        rows = await session.execute(select(Response).where(Response.point_id == point.id))
        return list(rows.scalars())


async def test_services_in_the_persons_language_then_the_login(
    runtime: Runtime, http: httpx.AsyncClient
) -> None:
    where = department()
    point = await placed_point(runtime, where)
    _, _, _, closed, _ = await add(
        runtime,
        ServiceFields(
            name="Comedor San José",
            kind="Comedor",
            needs=["food"],
            department=where,
            municipality="Ipiales",
            address="Calle 5 # 3-21",
            hours="8:00-12:00",
            contact="+57 300 111 2222",
            languages=["es"],
        ),
        ServiceFields(
            name="Maison d'accueil",
            needs=["shelter", "health"],
            department=where,
            contact="accueil@ngo.example / 602 7 123456",
            languages=["fr", "ht"],
        ),
        ServiceFields(name="Other town", needs=["food"], department=where, municipality="Pasto"),
        ServiceFields(name="Closed kitchen", needs=["food"], department=where),
        ServiceFields(name="Clinic only", needs=["health"], department=where),
    )
    async with transaction(runtime.sessions) as session:
        await set_service_active(session, service_id=closed, active=False)
    splash = Splash(http, point.nas_id)
    address = email()
    page = await walk(splash, "fr", address, SURVEY_PAGES[NEEDS_PAGE])

    assert page.status == 200 and '<html lang="fr">' in page.html
    assert "Services près d'ici" in page.text and not login_form(page)
    check_small_and_closed(page)
    assert page.text.index("Maison d'accueil") < page.text.index("Comedor San José"), (
        "French speakers first"
    )
    for absent in ("Other town", "Closed kitchen", "Clinic only"):
        assert absent not in page.text
    assert "Un endroit pour dormir" in page.text and "Nourriture" in page.text
    assert "Soins de santé" not in page.text, "only the needs the person declared"
    assert 'href="tel:+573001112222"' in page.html and 'href="tel:6027123456"' in page.html
    assert "accueil@ngo.example" in page.text and "Calle 5 # 3-21" in page.text
    assert "Français, Kreyòl ayisyen" in page.text and "8:00-12:00" in page.text
    assert address.lower() not in page.html.lower() and address not in page.html
    assert len(await stored(runtime, point)) == 1, "the response is stored before the step"

    page = await splash.submit(lang="ht")
    assert "Sèvis toupre isit la" in page.text and "Manje" in page.text
    assert page.text.index("Maison d'accueil") < page.text.index("Comedor San José")

    page = await splash.submit(nav="next")
    assert page.status == 200 and login_form(page), page.text
    assert '<html lang="ht">' in page.html
    assert len(await stored(runtime, point)) == 1
    await http._transport.app.state.funnel.flush(runtime)  # type: ignore[attr-defined]
    async with transaction(runtime.sessions) as session:
        counts = await event_counts(
            session, point_id=point.id, since=date(2000, 1, 1), until=date(2100, 1, 1)
        )
    assert counts["survey_done"] == 1 and counts["message_shown"] == 1


async def test_without_a_match_the_flow_goes_straight_to_the_login(
    runtime: Runtime, http: httpx.AsyncClient
) -> None:
    where = department()
    point = await placed_point(runtime, where)
    await add(runtime, ServiceFields(name="Clinic", needs=["health"], department=where))
    splash = Splash(http, point.nas_id)
    page = await walk(splash, "es", email(), SURVEY_PAGES[NEEDS_PAGE])
    assert page.status == 200 and login_form(page), page.text
    assert "Antes de conectarse" in page.text and "Servicios cerca de usted" not in page.text
    assert "Clinic" not in page.text


async def test_asking_for_help_after_a_risk_shows_protection(
    runtime: Runtime, http: httpx.AsyncClient
) -> None:
    where = department()
    point = await placed_point(runtime, where, municipality="Tumaco")
    (service_id,) = await add(
        runtime,
        ServiceFields(name="Defensoría", needs=["protection"], department=where, languages=["es"]),
    )
    splash = Splash(http, point.nas_id)
    needs_page: dict[str, str | list[str]] = {
        "needs": ["none"],
        "risks": ["violence"],
        "risks_help": "yes",
    }
    page = await walk(splash, "es", email(), needs_page)
    assert "Servicios cerca de usted" in page.text, page.text
    assert "Defensoría" in page.text and "Seguridad y protección" in page.text
    assert not login_form(page)
    # Turned off meanwhile: the step is skipped on the next turn, straight to the login.
    async with transaction(runtime.sessions) as session:
        await set_service_active(session, service_id=service_id, active=False)
    page = await splash.submit(lang="fr")
    assert login_form(page) and "Avant de vous connecter" in page.text


async def test_at_most_eight_services_and_the_page_stays_small(
    runtime: Runtime, http: httpx.AsyncClient
) -> None:
    where = department()
    point = await placed_point(runtime, where)
    await add(
        runtime,
        *[
            ServiceFields(
                name=f"Servicio {index:02} " + "n" * 180,
                kind="k" * 60,
                needs=["food"],
                department=where,
                address="a" * 300,
                hours="h" * 200,
                contact="c" * 200,
                languages=["es", "en", "fr", "ht"],
            )
            for index in range(12)
        ],
    )
    splash = Splash(http, point.nas_id)
    page = await walk(splash, "en", email(), SURVEY_PAGES[NEEDS_PAGE])
    assert "Services near you" in page.text
    assert [f"Servicio {i:02}" in page.text for i in range(12)] == [True] * 8 + [False] * 4
    check_small_and_closed(page)


async def test_the_json_api_returns_the_referrals(
    runtime: Runtime, http: httpx.AsyncClient
) -> None:
    where = department()
    point = await placed_point(runtime, where)
    await add(
        runtime,
        ServiceFields(
            name="Comedor",
            needs=["food"],
            department=where,
            municipality="Ipiales",
            languages=["es"],
        ),
        ServiceFields(name="Refuge", needs=["shelter", "food"], department=where, languages=["fr"]),
        ServiceFields(name="Clinic", needs=["health"], department=where),
    )
    body = {
        "lang": "fr",
        "age_confirmed": True,
        "terms_accepted": True,
        "email": email(),
        "answers": full_answers(),
    }
    reply = await http.post(f"/api/v1/points/{point.nas_id}/responses", json=body)
    assert reply.status_code == 201, reply.text
    referrals = reply.json()["referrals"]
    assert [(r["name"], r["needs"]) for r in referrals] == [
        ("Refuge", ["food", "shelter"]),
        ("Comedor", ["food"]),
    ]
    assert referrals[1]["municipality"] == "Ipiales" and referrals[0]["languages"] == ["fr"]
    elsewhere = await placed_point(runtime, department())
    fresh = body | {"email": email()}  # the same person again would get the follow-up form
    reply = await http.post(f"/api/v1/points/{elsewhere.nas_id}/responses", json=fresh)
    assert reply.status_code == 201 and reply.json()["referrals"] == []

"""The splash pages over HTTP: every step, both router styles, and the refusals."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import date
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select, text, update

from cautiva.content.service import set_portal_text
from cautiva.database import transaction
from cautiva.funnel.service import event_counts
from cautiva.models import NasType, Point, Response
from cautiva.runtime import Runtime
from cautiva.settings import Settings
from factories import create_point
from portal_api.app import create_app
from radius_harness import RadiusProcess, radclient
from splash_pages import EXTERNAL, SIZE_BUDGET, SURVEY_PAGES, Page, Splash, mikrotik_query, uam_url

BASE = "http://portal.test"


def _client(runtime: Runtime, settings: Settings | None = None) -> httpx.AsyncClient:
    app = create_app(settings or runtime.settings)
    app.state.runtime = runtime  # the lifespan would build its own; tests share theirs
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)


@pytest.fixture
async def http(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """A cookie-keeping client on the portal app."""
    async with _client(runtime) as client:
        yield client


def email() -> str:
    """An address no other test uses."""
    return f"Persona.{uuid.uuid4().hex[:8]}@Example.org"


PAGES = SURVEY_PAGES


async def walk_to_survey(splash: Splash, address: str, lang: str = "es") -> Page:
    """From the language page to the first survey page."""
    page = await splash.submit(lang=lang)
    assert page.flow.options("age") == ["yes", "no"], page.text
    page = await splash.submit({"age": "yes", "terms": "yes"})
    assert "email" in page.flow.names(), page.text
    return await splash.submit({"email": address})


async def walk_survey(splash: Splash) -> Page:
    """Answer every page of the default form; returns the message page."""
    page = splash.page
    for answers in PAGES:
        assert page is not None and page.status == 200, page.text if page else None
        page = await splash.submit(answers)
    assert page is not None
    return page


async def stored(runtime: Runtime, point: Point) -> list[Response]:
    """The responses stored for `point`."""
    async with transaction(runtime.sessions) as session:
        rows = await session.execute(select(Response).where(Response.point_id == point.id))
        return list(rows.scalars())


def check_page(page: Page) -> None:
    """The budget and the rules every page keeps."""
    assert len(page.response.content) < SIZE_BUDGET, len(page.response.content)
    assert "<script" not in page.html.lower()
    assert not EXTERNAL.search(page.html.replace('action="http://10.5.50.1/login"', "")), (
        "no request may leave the portal"
    )
    policy = page.response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    style = page.html.split("<style>", 1)[1].split("</style>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in policy, "the inline CSS is the one the CSP allows"
    assert "&#34;" not in style and "&gt;" not in style, "CSS is not HTML-escaped"
    assert page.response.headers["cache-control"] == "no-store"


async def test_mikrotik_visit_from_redirect_to_chap_login(
    runtime: Runtime, http: httpx.AsyncClient
) -> None:
    point = await create_point(runtime, nas_type=NasType.MIKROTIK)
    splash = Splash(http, point.nas_id)
    page = await splash.open(mikrotik_query(), **{"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"})
    assert page.status == 200
    assert '<html lang="fr">' in page.html, "the default language comes from Accept-Language"
    assert page.flow.options("lang") == ["es", "en", "fr", "ht"]
    check_page(page)
    address = email()
    page = await walk_to_survey(splash, address, lang="es")
    assert '<html lang="es">' in page.html and "group_size" in page.flow.names()
    check_page(page)
    page = await walk_survey(splash)
    check_page(page)
    login = next(f for f in page.forms if f.attrs.get("id") == "login")
    assert login.action == "http://10.5.50.1/login" and login.method == "post"
    fields = login.hidden()
    challenge = bytes(range(0x30, 0x40))
    (response,) = await stored(runtime, point)
    async with transaction(runtime.sessions) as session:
        grant_row = await session.execute(
            text("SELECT username FROM grants WHERE point_id = :p"), {"p": point.id}
        )
        (username,) = grant_row.one()
    password = page.text.split("Clave: ")[1].split()[0]
    assert fields["username"] == username
    assert (
        fields["password"]
        == hashlib.md5(b"\xf9" + password.encode() + challenge, usedforsecurity=False).hexdigest()
    ), "CHAP: MD5 of id + password + challenge, octal escapes decoded"
    dst = urlsplit(fields["dst"])
    assert dst.path == f"/p/{point.nas_id}/connected"
    assert parse_qs(dst.query)["to"] == ["http://example.org/news?a=1&b=2"]
    assert response.lang == "es" and response.form_id == "cautiva_default"
    assert response.answers["group_size"] == 2 and response.answers["needs"] == [
        "food",
        "shelter",
    ]
    assert response.answers["children"] == 1, "calculations are stored"
    assert "nationality_other" not in response.answers
    assert response.device_mac == "02:00:00:00:20:01"
    assert http.cookies.get("cautiva_device"), "the device cookie feeds the RFC 8908 API"
    # The result page MikroTik sends the browser to after the login.
    result = await http.get(fields["dst"])
    assert result.status_code == 200 and "Ya está conectado" in result.text
    assert 'href="http://example.org/news?a=1&amp;b=2"' in result.text
    await http._transport.app.state.funnel.flush(runtime)  # type: ignore[attr-defined]
    async with transaction(runtime.sessions) as session:
        counts = await event_counts(
            session, point_id=point.id, since=date(2000, 1, 1), until=date(2100, 1, 1)
        )
    assert counts["splash_opened"] == 1 and counts["consent"] == 1
    assert counts["survey_done"] == 1 and counts["message_shown"] == 1


async def test_no_email_anywhere_in_the_database(runtime: Runtime, http: httpx.AsyncClient) -> None:
    point = await create_point(runtime, nas_type=NasType.MIKROTIK)
    splash = Splash(http, point.nas_id)
    await splash.open(mikrotik_query(mac="02:00:00:00:20:77"))
    address = email()
    await walk_to_survey(splash, address)
    await walk_survey(splash)
    async with transaction(runtime.sessions) as session:
        tables = ["points", "grants", "responses", "portal_counters", "portal_texts"]
        dump = ""
        for table in tables:
            rows = await session.execute(text(f"SELECT * FROM {table}"))  # noqa: S608 - fixed names
            dump += repr(rows.all())
    assert address.lower() not in dump.lower() and "example.org" not in dump.lower()


async def test_uam_visit_verifies_md_and_redirects_to_logon(
    runtime: Runtime, http: httpx.AsyncClient
) -> None:
    point = await create_point(runtime, nas_type=NasType.CHILLI)
    assert point.uam_secret
    url = uam_url(f"{BASE}/p/{point.nas_id}", point.uam_secret, nasid=point.nas_id)
    splash = Splash(http, point.nas_id)
    splash.page = None
    page = await splash.open(url.split("?", 1)[1])
    assert page.status == 200 and page.has_state(), page.text
    await walk_to_survey(splash, email(), lang="ht")
    page = await walk_survey(splash)
    assert page.status == 200 and '<html lang="ht">' in page.html
    link = next(a for a in page.links if a.get("id") == "login")
    logon = httpx.URL(link["href"])
    assert (logon.host, logon.port, logon.path) == ("10.1.0.1", 3990, "/logon")
    password = page.text.split("Modpas: ")[1].split()[0]
    key = hashlib.md5(
        bytes.fromhex("00112233445566778899AABBCCDDEEFF") + point.uam_secret.encode(),
        usedforsecurity=False,
    ).digest()
    sent = bytes.fromhex(logon.params["password"])
    assert bytes(a ^ b for a, b in zip(sent, key, strict=False)).decode() == password
    assert logon.params["userurl"] == "http://example.org/"
    (response,) = await stored(runtime, point)
    assert response.lang == "ht" and response.device_mac == "02:00:00:00:20:02"
    # chilli comes back with res=success (or res=failed and the reason) after the logon.
    success = await http.get(f"/p/{point.nas_id}?res=success&userurl=http%3A%2F%2Fexample.org%2F")
    assert "Ou konekte" in success.text and 'href="http://example.org/"' in success.text
    failed = await http.get(f"/p/{point.nas_id}?res=failed&reply=Your+time+is+used+up")
    assert "Pa t ka konekte" in failed.text and "inè gratis" in failed.text


async def test_uspot_visit_gets_a_pap_logon(runtime: Runtime, http: httpx.AsyncClient) -> None:
    point = await create_point(runtime, nas_type=NasType.USPOT)
    assert point.uam_secret
    url = uam_url(f"{BASE}/p/{point.nas_id}", point.uam_secret, mac="02-00-00-00-20-05")
    splash = Splash(http, point.nas_id)
    await splash.open(url.split("?", 1)[1])
    await walk_to_survey(splash, email())
    page = await walk_survey(splash)
    link = next(a for a in page.links if a.get("id") == "login")
    assert httpx.URL(link["href"]).params["password"]


async def test_bad_md_unknown_and_retired_points_get_a_clear_page(
    runtime: Runtime, http: httpx.AsyncClient
) -> None:
    point = await create_point(runtime, nas_type=NasType.CHILLI)
    assert point.uam_secret
    url = uam_url(f"{BASE}/p/{point.nas_id}", point.uam_secret)
    forged = url.replace("uamport=3990", "uamport=3991")
    page = await Splash(http, point.nas_id).open(forged.split("?", 1)[1])
    assert page.status == 403 and not page.forms and "Enlace no válido" in page.text
    wrong_secret = uam_url(f"{BASE}/p/{point.nas_id}", "not-the-secret")
    page = await Splash(http, point.nas_id).open(wrong_secret.split("?", 1)[1])
    assert page.status == 403 and not page.forms
    missing = await Splash(http, "no-such-point").open("", **{"Accept-Language": "en"})
    assert missing.status == 404 and not missing.forms and "not in service" in missing.text
    async with transaction(runtime.sessions) as session:
        # Retiring is the admin's job (issue 4); here the flag is set the way it will set it.
        await session.execute(update(Point).where(Point.id == point.id).values(active=False))
    retired = await Splash(http, point.nas_id).open(url.split("?", 1)[1])
    assert retired.status == 404 and not retired.forms


async def test_under_18_gets_a_kind_page_and_no_survey(
    runtime: Runtime, http: httpx.AsyncClient
) -> None:
    point = await create_point(runtime)
    splash = Splash(http, point.nas_id)
    await splash.open(mikrotik_query())
    await splash.submit(lang="en")
    page = await splash.submit({"age": "no", "terms": "yes"})
    assert page.status == 200 and "only for adults" in page.text
    assert page.flow.names() == [] and 'name="email"' not in page.html
    back = await splash.submit(nav="back")
    assert back.flow.options("age") == ["yes", "no"]
    assert await stored(runtime, point) == []


async def test_consent_and_email_are_checked(runtime: Runtime, http: httpx.AsyncClient) -> None:
    point = await create_point(runtime)
    splash = Splash(http, point.nas_id)
    await splash.open(mikrotik_query())
    await splash.submit(lang="en")
    page = await splash.submit({"age": "yes"})
    assert "accept the terms" in page.text and page.flow.options("age")
    page = await splash.submit({"terms": "yes"})
    assert "say if you are 18" in page.text
    page = await splash.submit({"age": "yes", "terms": "yes"})
    page = await splash.submit({"email": "not an email"})
    assert "valid email" in page.text and page.flow.names() == ["email"]
    assert 'value="not an email"' in page.html, "what was typed comes back to be corrected"


async def test_required_constraints_hidden_questions_and_back(
    runtime: Runtime, http: httpx.AsyncClient
) -> None:
    point = await create_point(runtime)
    splash = Splash(http, point.nas_id)
    await splash.open(mikrotik_query(mac="02:00:00:00:20:09"))
    await walk_to_survey(splash, email(), lang="en")
    page = await splash.submit({})
    assert "This question is required" in page.text and "group_size" in page.flow.names()
    page = await splash.submit({"group_size": "0"})
    assert page.flow.names() == ["group_size"] and "fix" not in page.text.lower()
    assert "check the marked answers" in page.text, "a failed constraint is shown"
    page = await splash.submit({"group_size": "3"})
    assert "girls_0_5" in page.flow.names()
    page = await splash.submit(nav="back")
    assert 'value="3"' in page.html, "going back keeps the answer"
    await splash.submit({"group_size": "2"})
    await splash.submit(PAGES[1])
    # nationality_other only shows when "other" is chosen, on the same page, without script.
    journey = dict(PAGES[2]) | {"nationality": "other", "nationality_other": ""}
    page = await splash.submit(journey)
    assert "nationality_other" in page.flow.names()
    assert "one more question" in page.text and "required" not in page.text.split("Step")[0]
    page = await splash.submit(journey | {"nationality_other": "Cuban"})
    assert "needs" in page.flow.names()
    page = await splash.submit(nav="back")
    # Back to the journey page; changing the answer hides nationality_other again.
    page = await splash.submit(dict(PAGES[2]) | {"nationality_other": "sneaked in"})
    await splash.submit(PAGES[3])
    await splash.submit(PAGES[4])
    (response,) = await stored(runtime, point)
    assert response.answers["nationality"] == "VEN"
    assert "nationality_other" not in response.answers, "hidden questions are never stored"


async def test_language_switch_keeps_the_answers(runtime: Runtime, http: httpx.AsyncClient) -> None:
    point = await create_point(runtime)
    splash = Splash(http, point.nas_id)
    await splash.open(mikrotik_query())
    await walk_to_survey(splash, email(), lang="es")
    page = await splash.submit({"group_size": "4"}, lang="ht")
    assert '<html lang="ht">' in page.html and 'value="4"' in page.html
    assert "Kontinye" in page.text and "group_size" in page.flow.names()


async def test_posts_without_the_cookie_or_with_a_forged_state_store_nothing(
    runtime: Runtime, http: httpx.AsyncClient
) -> None:
    point = await create_point(runtime)
    splash = Splash(http, point.nas_id)
    await splash.open(mikrotik_query())
    await walk_to_survey(splash, email())
    for answers in PAGES[:-1]:
        await splash.submit(answers)
    assert splash.page is not None
    state = splash.page.flow.hidden()["state"]
    async with _client(runtime) as other:  # another site's form: no cookie of ours
        page = await Splash(other, point.nas_id).open(mikrotik_query())
        forged = await other.post(
            f"/p/{point.nas_id}", data={"state": state, **PAGES[-1], "nav": "next"}
        )
        assert forged.status_code == 200 and 'name="age"' not in forged.text
        assert "Elija su idioma" in forged.text, "the visit starts again"
    tampered = state[:-4] + ("AAAA" if not state.endswith("AAAA") else "BBBB")
    page_reply = await http.post(f"/p/{point.nas_id}", data={"state": tampered, "nav": "next"})
    assert page_reply.status_code == 400 and "caducó" in page_reply.text
    assert await stored(runtime, point) == []
    del page


async def test_returning_person_gets_the_follow_up_form(
    runtime: Runtime, http: httpx.AsyncClient
) -> None:
    point = await create_point(runtime)
    address = email()
    first = Splash(http, point.nas_id)
    await first.open(mikrotik_query(mac="02:00:00:00:20:10"))
    await walk_to_survey(first, address)
    await walk_survey(first)
    again = Splash(http, point.nas_id)
    await again.open(mikrotik_query(mac="02:00:00:00:20:11"))
    page = await walk_to_survey(again, address.upper(), lang="en")
    assert "Welcome back" in page.text and "current_country" in page.flow.names()
    page = await again.submit({"current_country": "PER", "current_place": "Tumbes"})
    page = await again.submit({"going_to": "CHL"})
    page = await again.submit({"needs": ["work"]})
    assert any(f.attrs.get("id") == "login" for f in page.forms)
    responses = await stored(runtime, point)
    assert [(r.form_id, r.returning_person) for r in responses] == [
        ("cautiva_default", False),
        ("cautiva_followup", True),
    ]
    assert responses[0].person_key == responses[1].person_key


async def test_double_submission_stores_one_response(
    runtime: Runtime, http: httpx.AsyncClient
) -> None:
    point = await create_point(runtime)
    splash = Splash(http, point.nas_id)
    await splash.open(mikrotik_query(mac="02:00:00:00:20:12"))
    await walk_to_survey(splash, email())
    for answers in PAGES[:-1]:
        await splash.submit(answers)
    last = splash.page
    await splash.submit(PAGES[-1])
    splash.page = last  # the person taps "Next" again before the page changes
    page = await splash.submit(PAGES[-1])
    assert any(f.attrs.get("id") == "login" for f in page.forms)
    assert len(await stored(runtime, point)) == 1


async def test_operator_texts_are_escaped_and_the_video_is_local(
    runtime: Runtime, http: httpx.AsyncClient
) -> None:
    point = await create_point(runtime)
    async with transaction(runtime.sessions) as session:
        await set_portal_text(
            session,
            key="terms",
            lang="es",
            body="Use <script>alert(1)</script> bien",
            point=point,
            video=None,
        )
        await set_portal_text(
            session,
            key="message",
            lang="es",
            body="No entregue sus documentos & cuídese.",
            point=point,
            video="consejos.mp4",
        )
    media = runtime.settings.data_dir / "media"
    media.mkdir(parents=True, exist_ok=True)
    (media / "consejos.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    splash = Splash(http, point.nas_id)
    await splash.open(mikrotik_query())
    page = await splash.submit(lang="es")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.html and "<script>" not in page.html
    await splash.submit({"age": "yes", "terms": "yes"})
    await splash.submit({"email": email()})
    page = await walk_survey(splash)
    assert "documentos &amp; cuídese" in page.html
    assert 'src="/media/consejos.mp4"' in page.html
    assert "media-src 'self'" in page.response.headers["content-security-policy"]
    script = page.html.split("<script>", 1)[1].split("</script>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in page.response.headers["content-security-policy"]
    assert f'data-beacon="/p/{point.nas_id}/video"' in page.html
    for event in ("started", "finished", "finished"):
        seen = await http.post(f"/p/{point.nas_id}/video?event={event}")
        assert seen.status_code == 204
    assert (await http.post(f"/p/{point.nas_id}/video?event=paused")).status_code == 404
    await http._transport.app.state.funnel.flush(runtime)  # type: ignore[attr-defined]
    async with transaction(runtime.sessions) as session:
        counts = await event_counts(
            session, point_id=point.id, since=date(2000, 1, 1), until=date(2100, 1, 1)
        )
    assert counts["video_started"] == 1 and counts["video_finished"] == 2
    video = await http.get("/media/consejos.mp4")
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    assert (await http.get("/media/..%2Fsecret_key")).status_code == 404


async def test_rate_limit_per_device(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(deep=True)
    settings.portal.rate_per_device = 3
    point = await create_point(runtime)
    async with _client(runtime, settings) as http:
        codes = [
            (await http.get(f"/p/{point.nas_id}?{mikrotik_query()}")).status_code for _ in range(4)
        ]
        other = await http.get(f"/p/{point.nas_id}?{mikrotik_query(mac='02:00:00:00:20:99')}")
    assert codes == [200, 200, 200, 429]
    assert other.status_code == 200, "another device at the same point is not held back"


async def test_mikrotik_error_page_and_connected_page(
    runtime: Runtime, http: httpx.AsyncClient
) -> None:
    point = await create_point(runtime)
    failed = await http.get(f"/p/{point.nas_id}?error=invalid+username+or+password&lang=fr")
    assert "Connexion impossible" in failed.text and "plus valide" in failed.text
    done = await http.get(
        f"/p/{point.nas_id}/connected", params={"lang": "en", "to": "javascript:alert(1)"}
    )
    assert "You are connected" in done.text and "javascript" not in done.text


async def test_splash_grant_logs_in_through_radclient(
    runtime: Runtime, http: httpx.AsyncClient, radius_server: RadiusProcess
) -> None:
    point = await create_point(runtime, nas_type=NasType.MIKROTIK)
    splash = Splash(http, point.nas_id)
    await splash.open(mikrotik_query(mac="02:00:00:00:20:40"))
    await walk_to_survey(splash, email(), lang="en")
    page = await walk_survey(splash)
    fields = next(f for f in page.forms if f.attrs.get("id") == "login").hidden()
    password = page.text.split("Password: ")[1].split()[0]
    challenge = bytes(range(0x30, 0x40))
    chap = hashlib.md5(b"\xf9" + password.encode() + challenge, usedforsecurity=False).hexdigest()
    assert fields["password"] == chap, "the form posts MikroTik's CHAP response"
    # The router then sends CHAP; radclient computes it from the password (its own CHAP id) over
    # the router's challenge. Handed the 17 precomputed octets, radclient 3.2 sometimes took them
    # for a cleartext password and re-encoded them (seen in its -x output): a flaky test.
    login = (
        f'User-Name = "{fields["username"]}"\n'
        f'CHAP-Password = "{password}"\nCHAP-Challenge = 0x{challenge.hex()}\n'
        f'NAS-Identifier = "{point.nas_id}"\nCalling-Station-Id = "02:00:00:00:20:40"\n'
        "Message-Authenticator = 0x00\n"
    )
    accept = await asyncio.to_thread(
        radclient, radius_server.auth, "auth", point.radius_secret, login, timeout=5.0
    )
    assert accept.code == "Access-Accept", accept.output
    assert accept.one("Session-Timeout") == "3600"

"""The admin pages over HTTP: sign-in with CSRF, roles, adding and moving points, sign-out."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from cautiva.credentials import heartbeat_key
from cautiva.database import transaction
from cautiva.forms.service import ensure_default_forms
from cautiva.models import Point, utcnow
from cautiva.runtime import Runtime
from cautiva.staff.service import add_user
from factories import create_point
from portal_api.app import create_app


@pytest.fixture
async def http(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """A cookie-keeping client on the portal app."""
    app = create_app(runtime.settings)
    app.state.runtime = runtime
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as client:
        yield client


async def user(runtime: Runtime, role: str) -> tuple[str, str]:
    """A new user with `role`: (email, one-time password)."""
    email = f"{role}.{uuid.uuid4().hex[:6]}@ngo.example"
    async with transaction(runtime.sessions) as session:
        _, password = await add_user(session, email=email, role=role, now=utcnow())
    return email, password


def csrf_of(html: str) -> str:
    """The CSRF token of the page's forms."""
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


async def sign_in(http: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    """Sign in through the form, as a browser does."""
    form = await http.get("/admin/login")
    return await http.post(
        "/admin/login",
        data={"csrf": csrf_of(form.text), "email": email, "password": password, "next": "/admin"},
    )


async def test_pages_need_a_sign_in_and_the_form_needs_its_token(
    runtime: Runtime, http: httpx.AsyncClient
) -> None:
    away = await http.get("/admin")
    assert away.status_code == 303 and away.headers["location"] == "/admin/login?next=/admin"
    email, password = await user(runtime, "technician")
    forged = await http.post(
        "/admin/login", data={"csrf": "x", "email": email, "password": password}
    )
    assert forged.status_code == 403 and "cautiva_staff" not in http.cookies
    wrong = await sign_in(http, email, "not the password")
    assert wrong.status_code == 401 and "Wrong email or password" in wrong.text
    signed = await sign_in(http, email.upper(), password)
    assert signed.status_code == 303 and signed.headers["location"] == "/admin"
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    home = await http.get("/admin")
    assert home.status_code == 200 and "Wi-Fi points" in home.text and email in home.text
    policy = home.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    assert '<script src="/admin/app.js"' in home.text
    worker = await http.get("/admin/sw.js")
    assert worker.status_code == 200 and "caches" in worker.text


async def test_technician_adds_and_moves_a_point_and_it_turns_online(
    runtime: Runtime, http: httpx.AsyncClient
) -> None:
    email, password = await user(runtime, "technician")
    await sign_in(http, email, password)
    form = await http.get("/admin/points/new")
    nas_id = f"bus-{uuid.uuid4().hex[:6]}"
    fields = {
        "csrf": csrf_of(form.text),
        "name": "Terminal <Sur>",
        "nas_id": nas_id,
        "nas_type": "mikrotik",
        "department": "Nariño",
        "municipality": "Ipiales",
        "site_type": "bus terminal",
    }
    no_token = await http.post("/admin/points/new", data=fields | {"csrf": "nope"})
    assert no_token.status_code == 403
    added = await http.post("/admin/points/new", data=fields)
    assert added.status_code == 303, added.text
    page = await http.get(added.headers["location"])
    assert "Terminal &lt;Sur&gt;" in page.text and "Point added." in page.text
    assert 'id="status">offline' in page.text
    assert f"/admin/points/{nas_id}/config?router=routeros" in page.text
    key = heartbeat_key(runtime.settings.secret_key, nas_id)
    beat = await http.post(
        f"/api/v1/points/{nas_id}/heartbeat", data={"key": key, "uptime": "7200", "load": "0.5"}
    )
    assert beat.status_code == 204
    page = await http.get(f"/admin/points/{nas_id}")
    assert 'id="status">online' in page.text and "2 h" in page.text
    moved = await http.post(
        f"/admin/points/{nas_id}/relocate",
        data={"csrf": csrf_of(page.text), "department": "Nariño", "municipality": "Pasto"},
    )
    assert moved.status_code == 303
    page = await http.get(moved.headers["location"])
    assert "Move recorded." in page.text and "Pasto, Nariño" in page.text
    assert page.text.count("<tr><td>") >= 2, "both places are listed"
    edited = await http.post(
        f"/admin/points/{nas_id}/edit",
        data={"csrf": csrf_of(page.text), "name": "Terminal Sur", "ssid": "Wi-Fi gratis"},
    )
    assert edited.status_code == 303
    page = await http.get(edited.headers["location"])
    assert "<h1>" in page.text and "Terminal Sur</h1>" in page.text
    assert 'value="Wi-Fi gratis"' in page.text
    rates = await http.post(
        f"/admin/points/{nas_id}/bandwidth",
        data={"csrf": csrf_of(page.text), "rate_down": "4096", "rate_up": ""},
    )
    assert rates.status_code == 303
    page = await http.get(rates.headers["location"])
    assert 'id="rate_down" name="rate_down" inputmode="numeric" value="4096"' in page.text
    async with transaction(runtime.sessions) as session:
        await ensure_default_forms(session)  # what the portal does at start-up
    page = await http.get(f"/admin/points/{nas_id}")
    assert "cautiva_default" in page.text and "the shipped default" in page.text
    forms = await http.post(
        f"/admin/points/{nas_id}/forms",
        data={"csrf": csrf_of(page.text), "full": "cautiva_default@2026.11.1", "followup": ""},
    )
    assert forms.status_code == 303, forms.text
    page = await http.get(forms.headers["location"])
    assert "Now: cautiva_default 2026.11.1" in page.text
    wrong = await http.post(
        f"/admin/points/{nas_id}/forms",
        data={"csrf": csrf_of(page.text), "full": "cautiva_followup@2026.11.1"},
    )
    assert wrong.status_code == 422 and "not a full form" in wrong.text
    duplicate = await http.post("/admin/points/new", data=fields | {"csrf": csrf_of(page.text)})
    assert duplicate.status_code == 422 and "exists already" in duplicate.text


async def test_analyst_reads_but_cannot_change(runtime: Runtime, http: httpx.AsyncClient) -> None:
    email, password = await user(runtime, "analyst")
    await sign_in(http, email, password)
    home = await http.get("/admin")
    assert home.status_code == 200 and "Add a point" not in home.text
    refused = await http.get("/admin/points/new")
    assert refused.status_code == 403 and "analyst role may not" in refused.text


async def test_sign_out_forgets_the_session(runtime: Runtime, http: httpx.AsyncClient) -> None:
    email, password = await user(runtime, "admin")
    await sign_in(http, email, password)
    home = await http.get("/admin")
    out = await http.post("/admin/logout", data={"csrf": csrf_of(home.text)})
    assert out.status_code == 200 and "signed out" in out.text
    assert out.headers["clear-site-data"] == '"cache", "storage"'
    assert (await http.get("/admin")).status_code == 303


async def test_technician_sets_a_message_with_a_video_and_views_are_counted(
    runtime: Runtime, http: httpx.AsyncClient
) -> None:
    email, password = await user(runtime, "technician")
    await sign_in(http, email, password)
    form = await http.get("/admin/messages")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    mp4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 256
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    saved = await http.post(
        "/admin/messages",
        data={"csrf": csrf_of(form.text), "lang": "ht", "point": "", "body": "Pran swen tèt ou."},
        files={"video": ("clip.mp4", mp4, "video/mp4"), "poster": ("f.png", png, "image/png")},
    )
    assert saved.status_code == 303, saved.text
    listing = await http.get(saved.headers["location"])
    assert "Message saved." in listing.text and "Pran swen tèt ou." in listing.text
    video = re.search(r"(msg-[0-9a-f]{16}\.mp4)", listing.text)
    assert video, listing.text
    served = await http.get(f"/media/{video.group(1)}")
    assert served.status_code == 200 and served.content == mp4
    poster = await http.get(f"/media/{video.group(1).replace('.mp4', '.png')}")
    assert poster.status_code == 200 and poster.headers["content-type"] == "image/png"
    fake = await http.post(
        "/admin/messages",
        data={"csrf": csrf_of(form.text), "lang": "ht", "body": "x"},
        files={"video": ("clip.mp4", b"<html>not a video</html>", "video/mp4")},
    )
    assert fake.status_code == 422 and "not a mp4 file" in fake.text
    no_token = await http.post(
        "/admin/messages", data={"lang": "ht", "body": "x"}, files={"video": ("a.mp4", mp4)}
    )
    assert no_token.status_code == 403


async def test_technician_sets_how_long_a_point_may_stay_unheard_before_an_alert(
    runtime: Runtime, http: httpx.AsyncClient
) -> None:
    point = await create_point(runtime)
    await sign_in(http, *await user(runtime, "technician"))
    page = await http.get(f"/admin/points/{point.nas_id}")
    default = runtime.settings.alerts.offline_minutes
    assert f"the default, {default}" in page.text
    for bad in ("ten", "1"):
        refused = await http.post(
            f"/admin/points/{point.nas_id}/offline-alert",
            data={"csrf": csrf_of(page.text), "minutes": bad},
        )
        assert refused.status_code == 422 and "minutes" in refused.text
    saved = await http.post(
        f"/admin/points/{point.nas_id}/offline-alert",
        data={"csrf": csrf_of(page.text), "minutes": "45"},
    )
    assert saved.status_code == 303
    page = await http.get(saved.headers["location"])
    assert (
        "Offline alert saved." in page.text
        and 'name="minutes" inputmode="numeric" value="45"' in page.text
    )
    cleared = await http.post(
        f"/admin/points/{point.nas_id}/offline-alert", data={"csrf": csrf_of(page.text)}
    )
    assert cleared.status_code == 303
    async with runtime.sessions() as session:
        stored = await session.get(Point, point.id)
        assert stored is not None and stored.offline_alert_minutes is None

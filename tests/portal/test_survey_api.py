"""The survey JSON API over HTTP, and the grant it issues logging in through real RADIUS."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update

from cautiva.database import transaction
from cautiva.models import NasType, Point, Response
from cautiva.runtime import Runtime
from factories import create_point, full_answers
from portal_api.app import create_app
from radius_harness import RadiusProcess, radclient


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the portal app, sharing the test runtime."""
    app = create_app(runtime.settings)
    app.state.runtime = runtime  # the lifespan would build its own; tests share theirs
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as http:
        yield http


def body(**overrides: object) -> dict[str, object]:
    """A valid submission for the shipped default form."""
    return {
        "lang": "es",
        "age_confirmed": True,
        "terms_accepted": True,
        "email": f"persona.{uuid.uuid4().hex[:8]}@example.org",
        "answers": full_answers(),
        "router": {},
    } | overrides


async def test_form_is_served_in_the_asked_language(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    point = await create_point(runtime)
    reply = await client.get(f"/api/v1/points/{point.nas_id}/form", params={"lang": "ht"})
    assert reply.status_code == 200, reply.text
    form = reply.json()
    assert form["form_id"] == "cautiva_default" and form["lang"] == "ht"
    assert set(form["languages"]) == {"es", "en", "fr", "ht"}
    nationality = next(
        q for page in form["pages"] for q in page["questions"] if q["name"] == "nationality"
    )
    assert nationality["type"] == "select_one" and nationality["choices"]
    missing = await client.get("/api/v1/points/nowhere/form")
    assert missing.status_code == 404 and "nowhere" in missing.json()["detail"]


async def test_bad_submissions_get_field_level_reasons(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    point = await create_point(runtime)
    url = f"/api/v1/points/{point.nas_id}/responses"
    answers = full_answers() | {"favourite_colour": "blue", "group_size": 0}
    del answers["going_to"]
    reply = await client.post(url, json=body(answers=answers, lang="en"))
    assert reply.status_code == 422, reply.text
    errors = reply.json()["detail"]["errors"]
    assert {"favourite_colour", "group_size", "going_to"} <= set(errors)
    refused = await client.post(url, json=body(age_confirmed=False, email="not-an-email"))
    assert refused.status_code == 422
    assert {"age_confirmed", "email"} <= set(refused.json()["detail"]["errors"])
    malformed = await client.post(url, json={"lang": "es"})
    assert malformed.status_code == 422
    async with transaction(runtime.sessions) as session:
        stored = await session.execute(select(Response).where(Response.point_id == point.id))
        assert stored.scalars().all() == []


async def test_mikrotik_submission_returns_grant_and_chap_login(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    point = await create_point(runtime, nas_type=NasType.MIKROTIK)
    router = {
        "mac": "02:00:00:00:10:01",
        "ip": "10.5.50.9",
        "link-login-only": "http://10.5.50.1/login",
        "link-orig": "http://example.org/",
        "chap-id": "\\371",
        "chap-challenge": "\\060\\061\\062\\063\\064\\065\\066\\067"
        "\\070\\071\\072\\073\\074\\075\\076\\077",
    }
    reply = await client.post(f"/api/v1/points/{point.nas_id}/responses", json=body(router=router))
    assert reply.status_code == 201, reply.text
    data = reply.json()
    grant, login = data["grant"], data["login"]
    assert grant["seconds"] == 3600 and data["returning"] is False
    assert login["method"] == "post" and login["url"] == "http://10.5.50.1/login"
    expected = hashlib.md5(b"\xf9" + grant["password"].encode() + b"0123456789:;<=>?").hexdigest()
    assert login["fields"]["password"] == expected
    assert login["fields"]["username"] == grant["username"]


async def test_chilli_submission_returns_uam_logon(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    point = await create_point(runtime, nas_type=NasType.CHILLI)
    challenge = "00112233445566778899aabbccddeeff"
    router = {
        "mac": "02-00-00-00-10-02",
        "uamip": "10.1.0.1",
        "uamport": "3990",
        "challenge": challenge,
    }
    reply = await client.post(f"/api/v1/points/{point.nas_id}/responses", json=body(router=router))
    assert reply.status_code == 201, reply.text
    data = reply.json()
    assert data["login"]["method"] == "get"
    url = httpx.URL(data["login"]["url"])
    assert (url.host, url.port, url.path) == ("10.1.0.1", 3990, "/logon")
    assert url.params["username"] == data["grant"]["username"]
    key = hashlib.md5(bytes.fromhex(challenge) + (point.uam_secret or "").encode()).digest()
    clear = bytes(a ^ b for a, b in zip(bytes.fromhex(url.params["password"]), key, strict=False))
    assert clear.rstrip(b"\x00").decode() == data["grant"]["password"]


async def test_portal_grant_logs_in_through_radclient(
    runtime: Runtime, client: httpx.AsyncClient, radius_server: RadiusProcess, tmp_path: Path
) -> None:
    point = await create_point(runtime, nas_type=NasType.MIKROTIK)
    reply = await client.post(
        f"/api/v1/points/{point.nas_id}/responses",
        json=body(router={"mac": "02:00:00:00:10:03"}),
    )
    assert reply.status_code == 201, reply.text
    grant = reply.json()["grant"]
    login = (
        f'User-Name = "{grant["username"]}"\nUser-Password = "{grant["password"]}"\n'
        f'NAS-Identifier = "{point.nas_id}"\nCalling-Station-Id = "02-00-00-00-10-03"\n'
        "Message-Authenticator = 0x00\n"
    )
    accept = await asyncio.to_thread(
        radclient, radius_server.auth, "auth", point.radius_secret, login
    )
    assert accept.code == "Access-Accept", accept.output
    assert accept.one("Session-Timeout") == "3600"
    other_device = login.replace("02-00-00-00-10-03", "02-00-00-00-10-04")
    refused = await asyncio.to_thread(
        radclient, radius_server.auth, "auth", point.radius_secret, other_device
    )
    assert refused.code == "Access-Reject", "the grant is bound to the device that took the survey"


async def test_uam_point_without_secret_gets_a_chap_response(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    point = await create_point(runtime, nas_type=NasType.CHILLI)
    async with transaction(runtime.sessions) as session:
        await session.execute(update(Point).where(Point.id == point.id).values(uam_secret=None))
    challenge = "0123456789abcdef0123456789abcdef"
    router = {"mac": "02-00-00-00-10-05", "uamip": "10.1.0.1", "challenge": challenge}
    reply = await client.post(f"/api/v1/points/{point.nas_id}/responses", json=body(router=router))
    assert reply.status_code == 201, reply.text
    data = reply.json()
    url = httpx.URL(data["login"]["url"])
    assert "password" not in url.params, "PAP without a UAM secret means different things"
    # CHAP identifier 0, the bare challenge as CHAP challenge (no secret to mix in).
    expected = hashlib.md5(
        b"\x00" + data["grant"]["password"].encode() + bytes.fromhex(challenge),
        usedforsecurity=False,
    ).hexdigest()
    assert url.params["response"] == expected

"""The RFC 8908 Captive Portal API over HTTP, and the domain service behind it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from cautiva.accounting.service import AccountingEvent, AcctStatus, record_many
from cautiva.database import transaction
from cautiva.grants.service import IssuedGrant
from cautiva.models import Point, utcnow
from cautiva.runtime import Runtime
from cautiva.sessions.service import device_status
from factories import create_point, go_online
from portal_api.app import create_app
from portal_api.state import DEVICE_COOKIE, device_sealer

API = "/api/v1/captive-portal"
# What a central portal usually sees: the router's public (NAT'd) address, no phone's.
ROUTER_PUBLIC_ADDRESS = "198.51.100.20"
LIMIT = 3600


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    """The portal app sharing the test runtime."""
    app = create_app(runtime.settings)
    app.state.runtime = runtime  # the lifespan would build its own; tests share theirs
    return app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client calling from behind the router's NAT."""
    async with client_from(app, ROUTER_PUBLIC_ADDRESS) as http:
        yield http


def client_from(app: FastAPI, address: str) -> httpx.AsyncClient:
    """An HTTP client on the app whose requests come from `address`."""
    transport = httpx.ASGITransport(app=app, client=(address, 51000))
    return httpx.AsyncClient(transport=transport, base_url="http://portal.test")


async def stop(runtime: Runtime, point: Point, grant: IssuedGrant, *, at: datetime) -> None:
    """Record the Accounting Stop of the grant's session."""
    async with transaction(runtime.sessions) as db:
        await record_many(
            db,
            events=[
                AccountingEvent(
                    point_id=point.id,
                    status=AcctStatus.STOP,
                    event_time=at,
                    username=grant.username,
                    acct_session_id="80000001",
                    terminate_cause="User-Request",
                )
            ],
            now=at,
            rules=runtime.rules,
        )


def cookie(runtime: Runtime, username: str, nas_id: str) -> dict[str, str]:
    """The device cookie the splash flow sets, as a request header."""
    token = device_sealer(runtime.settings.secret_key).seal({"u": username, "n": nas_id})
    return {"Cookie": f"{DEVICE_COOKIE}={token}"}


def expected_left(started: datetime) -> int:
    """Seconds left computed here, independently: the limit minus the wall time since start."""
    return LIMIT - int((utcnow() - started).total_seconds())


# The HTTP API


async def test_missing_unknown_and_retired_points_are_404(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    missing = await client.get(API)
    assert missing.status_code == 404 and "nas" in missing.json()["detail"]
    unknown = await client.get(API, params={"nas": "nowhere"})
    assert unknown.status_code == 404 and "nowhere" in unknown.json()["detail"]
    point = await create_point(runtime)
    async with transaction(runtime.sessions) as db:
        await db.execute(
            update(Point).where(Point.id == point.id).values(active=False, retired_at=utcnow())
        )
    retired = await client.get(API, params={"nas": point.nas_id})
    assert retired.status_code == 404 and point.nas_id in retired.json()["detail"]


async def test_device_without_session_is_captive(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    point = await create_point(runtime)
    reply = await client.get(
        API, params={"nas": point.nas_id}, headers={"Accept": "application/captive+json"}
    )
    assert reply.status_code == 200, reply.text
    assert reply.json() == {
        "captive": True,
        "user-portal-url": f"http://portal.test/p/{point.nas_id}",
    }


async def test_media_type_and_no_caching(runtime: Runtime, client: httpx.AsyncClient) -> None:
    point = await create_point(runtime)
    reply = await client.get(API, params={"nas": point.nas_id})
    assert reply.headers["content-type"] == "application/captive+json"
    assert reply.headers["cache-control"] == "private, no-store"


async def test_cookie_of_an_online_device_gives_time_left(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    point = await create_point(runtime)
    started = utcnow() - timedelta(minutes=10)
    grant = await go_online(runtime, point, started=started, used=300)
    reply = await client.get(
        API, params={"nas": point.nas_id}, headers=cookie(runtime, grant.username, point.nas_id)
    )
    assert reply.status_code == 200, reply.text
    state = reply.json()
    assert state["captive"] is False
    assert state["user-portal-url"] == f"http://portal.test/p/{point.nas_id}"
    # Ten minutes online out of an hour: 3000 s, less the few the test itself took.
    assert 2995 <= state["seconds-remaining"] <= 3000
    assert abs(state["seconds-remaining"] - expected_left(started)) <= 2


async def test_cookie_for_another_point_is_ignored(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    point, other = await create_point(runtime), await create_point(runtime)
    grant = await go_online(runtime, point, started=utcnow() - timedelta(minutes=5))
    wrong_point = cookie(runtime, grant.username, other.nas_id)
    here = await client.get(API, params={"nas": point.nas_id}, headers=wrong_point)
    assert here.json()["captive"] is True
    there = await client.get(API, params={"nas": other.nas_id}, headers=wrong_point)
    assert there.json()["captive"] is True, "the session runs at another point"


async def test_tampered_or_foreign_cookie_is_ignored(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    point = await create_point(runtime)
    grant = await go_online(runtime, point, started=utcnow() - timedelta(minutes=5))
    token = device_sealer(runtime.settings.secret_key).seal(
        {"u": grant.username, "n": point.nas_id}
    )
    middle = len(token) // 2
    tampered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    foreign = device_sealer("another-secret-key-" + "x" * 40).seal(
        {"u": grant.username, "n": point.nas_id}
    )
    for value in (tampered, foreign, grant.username, ""):
        reply = await client.get(
            API, params={"nas": point.nas_id}, headers={"Cookie": f"{DEVICE_COOKIE}={value}"}
        )
        assert reply.status_code == 200, reply.text
        assert reply.json()["captive"] is True, value


async def test_source_address_equal_to_framed_ip_identifies_the_device(
    runtime: Runtime, app: FastAPI
) -> None:
    point = await create_point(runtime)
    started = utcnow() - timedelta(minutes=20)
    await go_online(runtime, point, started=started, used=600, framed_ip="10.5.50.77")
    async with client_from(app, "10.5.50.77") as phone:
        state = (await phone.get(API, params={"nas": point.nas_id})).json()
    assert state["captive"] is False
    assert abs(state["seconds-remaining"] - expected_left(started)) <= 2
    async with client_from(app, "10.5.50.78") as neighbour:
        assert (await neighbour.get(API, params={"nas": point.nas_id})).json()["captive"] is True


async def test_session_past_its_time_is_captive(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    # Not yet cut by the router (within the overrun grace) but with no time left: RFC 8908
    # section 5 makes that captive, without seconds-remaining (see the endpoint's comment).
    point = await create_point(runtime)
    started = utcnow() - timedelta(minutes=61)
    grant = await go_online(runtime, point, started=started, used=LIMIT + 30)
    reply = await client.get(
        API, params={"nas": point.nas_id}, headers=cookie(runtime, grant.username, point.nas_id)
    )
    assert reply.json() == {
        "captive": True,
        "user-portal-url": f"http://portal.test/p/{point.nas_id}",
    }


async def test_public_url_setting_names_the_portal(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    runtime.settings.portal.public_url = "https://wifi.example.org/"
    point = await create_point(runtime)
    reply = await client.get(API, params={"nas": point.nas_id})
    assert reply.json()["user-portal-url"] == f"https://wifi.example.org/p/{point.nas_id}"


def test_openapi_documents_the_captive_media_type(app: FastAPI) -> None:
    operation = app.openapi()["paths"][API]["get"]
    assert "application/captive+json" in operation["responses"]["200"]["content"]
    assert operation["tags"] == ["captive portal"]
    assert "404" in operation["responses"]


# The domain service


async def test_service_finds_a_device_by_grant_or_address(runtime: Runtime) -> None:
    point = await create_point(runtime)
    started = utcnow() - timedelta(minutes=30)
    grant = await go_online(runtime, point, started=started, used=900, framed_ip="10.5.50.10")
    now = started + timedelta(minutes=30)
    async with transaction(runtime.sessions) as db:
        by_grant = await device_status(
            db, point=point, username=grant.username, address=None, now=now, rules=runtime.rules
        )
        by_address = await device_status(
            db, point=point, username=None, address="10.5.50.10", now=now, rules=runtime.rules
        )
        neither = await device_status(
            db, point=point, username="nobody", address="10.5.50.11", now=now, rules=runtime.rules
        )
    # 900 s reported at minute 15, then 15 more minutes counted up to `now`.
    assert by_grant is not None and by_grant.seconds_remaining == LIMIT - 1800
    assert by_grant == by_address
    assert by_grant.username == grant.username and not by_grant.time_used_up
    assert neither is None


async def test_service_prefers_the_grant_over_the_address(runtime: Runtime) -> None:
    point = await create_point(runtime)
    now = utcnow()
    mine = await go_online(
        runtime, point, started=now - timedelta(minutes=10), framed_ip="10.5.50.20"
    )
    theirs = await go_online(
        runtime,
        point,
        started=now - timedelta(minutes=40),
        mac="02:00:00:00:20:02",
        framed_ip="10.5.50.21",
        acct_session_id="80000002",
    )
    async with transaction(runtime.sessions) as db:
        status = await device_status(
            db,
            point=point,
            username=mine.username,
            address="10.5.50.21",
            now=now,
            rules=runtime.rules,
        )
        stale_cookie = await device_status(
            db, point=point, username="gone", address="10.5.50.21", now=now, rules=runtime.rules
        )
    assert status is not None and status.username == mine.username
    assert status.seconds_remaining == LIMIT - 600
    assert stale_cookie is not None and stale_cookie.username == theirs.username


async def test_service_ignores_stopped_sessions_and_other_points(runtime: Runtime) -> None:
    point, other = await create_point(runtime), await create_point(runtime)
    started = utcnow() - timedelta(minutes=15)
    grant = await go_online(runtime, point, started=started, framed_ip="10.5.50.30")
    now = utcnow()
    async with transaction(runtime.sessions) as db:
        elsewhere = await device_status(
            db,
            point=other,
            username=grant.username,
            address="10.5.50.30",
            now=now,
            rules=runtime.rules,
        )
    assert elsewhere is None
    await stop(runtime, point, grant, at=started + timedelta(minutes=5))
    async with transaction(runtime.sessions) as db:
        stopped = await device_status(
            db,
            point=point,
            username=grant.username,
            address="10.5.50.30",
            now=now,
            rules=runtime.rules,
        )
    assert stopped is None


async def test_service_never_counts_below_zero(runtime: Runtime) -> None:
    point = await create_point(runtime)
    started = utcnow() - timedelta(hours=2)
    grant = await go_online(runtime, point, started=started, used=LIMIT + 600)
    async with transaction(runtime.sessions) as db:
        status = await device_status(
            db,
            point=point,
            username=grant.username,
            address=None,
            now=utcnow(),
            rules=runtime.rules,
        )
    assert status is not None and status.seconds_remaining == 0 and status.time_used_up

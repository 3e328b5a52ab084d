"""The admin JSON API: authentication and roles on every route, points, heartbeats, sessions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pyrad.packet import CoAPacket
from sqlalchemy import select

from cautiva.credentials import heartbeat_key
from cautiva.database import transaction
from cautiva.models import AuditEntry, NasType, utcnow
from cautiva.runtime import Runtime
from cautiva.staff.roles import Right, Role, can
from cautiva.staff.service import create_token
from factories import create_point, go_online, issue
from portal_api.admin import api as admin_api
from portal_api.admin.auth import Allowed
from portal_api.app import create_app
from radius.dictionary import load_dictionary
from radius_harness import RadiusProcess, radclient

ADMIN = "/api/v1/admin"


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    """The portal app sharing the test runtime."""
    app = create_app(runtime.settings)
    app.state.runtime = runtime
    return app


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the app."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as client:
        yield client


@pytest.fixture
async def tokens(runtime: Runtime) -> dict[Role, dict[str, str]]:
    """A bearer header per role."""
    headers = {}
    async with transaction(runtime.sessions) as session:
        for role in Role:
            _, token = await create_token(session, role=role.value, label="test", now=utcnow())
            headers[role] = {"Authorization": f"Bearer {token}"}
    return headers


def right_of(route: APIRoute) -> Right | None:
    """The right a route declares with `Allowed`, found in its dependency tree."""
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        if isinstance(dependant.call, Allowed):
            return dependant.call.right
        stack.extend(dependant.dependencies)
    return None


def sample(path: str) -> str:
    """The path with its parameters filled in."""
    return path.replace("{nas_id}", "no-such-point").replace("{session_id}", "999999")


async def test_every_admin_route_refuses_without_credentials_and_checks_roles(
    app: FastAPI, http: httpx.AsyncClient, tokens: dict[Role, dict[str, str]]
) -> None:
    spec = app.openapi()
    # The admin router's own routes (FastAPI mounts included routers lazily).
    routes = {
        (route.path, method.lower()): route
        for route in admin_api.router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    walked = 0
    for path, operations in spec["paths"].items():
        if not path.startswith(ADMIN):
            continue
        for method in operations:
            route = routes.get((path, method))
            assert route is not None, f"{method.upper()} {path} is not on the admin router"
            right = right_of(route)
            assert right is not None, f"{method.upper()} {path} declares no right"
            url = sample(path)
            anonymous = await http.request(method, url)
            assert anonymous.status_code == 401, (method, path, anonymous.text)
            assert anonymous.headers["www-authenticate"].startswith("Bearer")
            bad = await http.request(method, url, headers={"Authorization": "Bearer cvt_nope"})
            assert bad.status_code == 401, (method, path)
            for role in Role:
                reply = await http.request(method, url, headers=tokens[role])
                if can(role, right):
                    assert reply.status_code not in (401, 403), (role, method, path, reply.text)
                    assert reply.status_code < 500, (role, method, path, reply.text)
                else:
                    assert reply.status_code == 403, (role, method, path, reply.text)
                    assert role.value in reply.json()["detail"]
            walked += 1
    assert walked >= 7, "the spec lists the admin routes"


async def test_points_are_added_relocated_and_audited(
    runtime: Runtime, http: httpx.AsyncClient, tokens: dict[Role, dict[str, str]]
) -> None:
    tech = tokens[Role.TECHNICIAN]
    body = {
        "name": "Terminal Norte",
        "nas_id": "terminal-norte-api",
        "nas_type": "mikrotik",
        "department": "Nariño",
        "municipality": "Ipiales",
    }
    created = await http.post(f"{ADMIN}/points", json=body, headers=tech)
    assert created.status_code == 201, created.text
    point = created.json()
    assert point["radius_secret"] and point["status"]["online"] is False
    again = await http.post(f"{ADMIN}/points", json=body, headers=tech)
    assert again.status_code == 409
    bad = await http.post(f"{ADMIN}/points", json=body | {"nas_type": "cisco"}, headers=tech)
    assert bad.status_code == 422
    move = {"relocate": {"department": "Nariño", "municipality": "Pasto", "site_type": "bus"}}
    moved = await http.patch(f"{ADMIN}/points/terminal-norte-api", json=move, headers=tech)
    assert moved.status_code == 200, moved.text
    places = moved.json()["locations"]
    assert [p["municipality"] for p in places] == ["Ipiales", "Pasto"]
    assert places[0]["valid_to"] == places[1]["valid_from"], "the move is dated, no gap"
    assert moved.json()["municipality"] == "Pasto"
    renamed = await http.patch(
        f"{ADMIN}/points/terminal-norte-api",
        json={"name": "Terminal del Norte", "ssid": "WiFi Gratis"},
        headers=tech,
    )
    assert (
        renamed.json()["name"] == "Terminal del Norte" and renamed.json()["ssid"] == "WiFi Gratis"
    )
    second = {"relocate": {"department": "Putumayo", "municipality": "Mocoa"}}
    moved = await http.patch(f"{ADMIN}/points/terminal-norte-api", json=second, headers=tech)
    assert [p["municipality"] for p in moved.json()["locations"]] == ["Ipiales", "Pasto", "Mocoa"]
    assert moved.json()["locations"][1]["moved_by"].startswith("token:cvt_")
    async with transaction(runtime.sessions) as session:
        actions = (
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.target == "terminal-norte-api")
            )
        ).all()
    assert actions.count("point.relocate") == 2 and "point.add" in actions
    script = await http.get(
        f"{ADMIN}/points/terminal-norte-api/config", params={"router": "routeros"}, headers=tech
    )
    assert script.status_code == 200 and "terminal-norte-api" in script.text
    assert point["radius_secret"] in script.text
    assert "attachment" in script.headers["content-disposition"]
    wrong_kind = await http.get(
        f"{ADMIN}/points/terminal-norte-api/config",
        params={"router": "openwrt-chilli"},
        headers=tech,
    )
    assert wrong_kind.status_code == 422
    poster = await http.get(f"{ADMIN}/points/terminal-norte-api/poster", headers=tech)
    assert poster.status_code == 200 and poster.text.lstrip().startswith(("<?xml", "<svg"))
    log = await http.get(f"{ADMIN}/audit", headers=tokens[Role.ADMIN])
    assert any(e["action"] == "point.add" and e["actor"].startswith("token:") for e in log.json())


async def test_heartbeat_turns_a_point_online_and_wrong_key_is_refused(
    runtime: Runtime, http: httpx.AsyncClient, tokens: dict[Role, dict[str, str]]
) -> None:
    point = await create_point(runtime)
    url = f"/api/v1/points/{point.nas_id}/heartbeat"
    wrong = await http.post(url, data={"key": "0" * 32, "uptime": "100", "load": "0.1"})
    assert wrong.status_code == 403
    key = heartbeat_key(runtime.settings.secret_key, point.nas_id)
    good = await http.post(url, data={"key": key, "uptime": "86400", "load": "0.25"})
    assert good.status_code == 204, good.text
    listing = await http.get(f"{ADMIN}/points", headers=tokens[Role.ANALYST])
    mine = next(p for p in listing.json() if p["nas_id"] == point.nas_id)
    assert mine["online"] is True and mine["uptime_seconds"] == 86400 and mine["load_1m"] == 0.25
    garbage = await http.post(url, data={"key": key, "uptime": "-1", "load": "x"})
    assert garbage.status_code == 422


async def test_overview_counts_todays_sessions_and_surveys(
    runtime: Runtime, http: httpx.AsyncClient, tokens: dict[Role, dict[str, str]]
) -> None:
    point = await create_point(runtime)
    await go_online(runtime, point, started=utcnow() - timedelta(minutes=5))
    listing = await http.get(f"{ADMIN}/points", headers=tokens[Role.TECHNICIAN])
    mine = next(p for p in listing.json() if p["nas_id"] == point.nas_id)
    assert mine["sessions_open"] == 1 and mine["sessions_today"] >= 1
    assert mine["logins_today"] == 1 and mine["online"] is True, "accounting counts as heard"
    sessions = await http.get(
        f"{ADMIN}/points/{point.nas_id}/sessions", headers=tokens[Role.TECHNICIAN]
    )
    (row,) = sessions.json()
    assert row["mac"] == "02:00:00:00:20:01" and row["stopped_at"] is None


async def test_retire_closes_the_splash_page(
    runtime: Runtime, http: httpx.AsyncClient, tokens: dict[Role, dict[str, str]]
) -> None:
    point = await create_point(runtime)
    retired = await http.patch(
        f"{ADMIN}/points/{point.nas_id}", json={"retire": True}, headers=tokens[Role.TECHNICIAN]
    )
    assert retired.status_code == 200 and retired.json()["active"] is False
    page = await http.get(f"/p/{point.nas_id}")
    assert page.status_code == 404 and "state" not in page.text


class AckingNas(asyncio.DatagramProtocol):
    """A router's CoA port that ACKs every Disconnect-Request it can verify."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret
        self.requests: list[CoAPacket] = []
        self.transport: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        request = CoAPacket(packet=data, dict=load_dictionary(), secret=self.secret)
        self.requests.append(request)
        self.transport.sendto(request.CreateReply().ReplyPacket(), addr)


@contextmanager
def closing(transport: asyncio.BaseTransport) -> Iterator[None]:
    """Close a transport at the end of the block."""
    try:
        yield
    finally:
        transport.close()


async def test_disconnect_from_the_admin_reaches_the_router(
    runtime: Runtime, http: httpx.AsyncClient, tokens: dict[Role, dict[str, str]]
) -> None:
    loop = asyncio.get_running_loop()
    point = await create_point(runtime, nas_type=NasType.MIKROTIK)
    nas = AckingNas(point.radius_secret.encode())
    transport, _ = await loop.create_datagram_endpoint(lambda: nas, local_addr=("127.0.0.1", 0))
    with closing(transport):
        port = transport.get_extra_info("sockname")[1]
        patched = await http.patch(
            f"{ADMIN}/points/{point.nas_id}",
            json={"coa_port": port, "fixed_address": "127.0.0.1"},
            headers=tokens[Role.TECHNICIAN],
        )
        assert patched.status_code == 200, patched.text
        await go_online(runtime, point, started=utcnow() - timedelta(minutes=1))
        sessions = await http.get(
            f"{ADMIN}/points/{point.nas_id}/sessions", headers=tokens[Role.TECHNICIAN]
        )
        (row,) = sessions.json()
        cut = await http.post(
            f"{ADMIN}/sessions/{row['id']}/disconnect", headers=tokens[Role.TECHNICIAN]
        )
        assert cut.status_code == 200, cut.text
        assert cut.json()["result"] == "ack" and cut.json()["attempts"] == 1
        (request,) = nas.requests
        assert request["Acct-Session-Id"] == [row["acct_session_id"]]
        refused = await http.post(
            f"{ADMIN}/sessions/{row['id']}/disconnect", headers=tokens[Role.ANALYST]
        )
        assert refused.status_code == 403


async def test_retired_point_gets_radius_rejects(
    runtime: Runtime,
    http: httpx.AsyncClient,
    tokens: dict[Role, dict[str, str]],
    radius_server: RadiusProcess,
) -> None:
    point = await create_point(runtime)
    grant = await issue(runtime, point)
    login = (
        f'User-Name = "{grant.username}"\nUser-Password = "{grant.password}"\n'
        f'NAS-Identifier = "{point.nas_id}"\nMessage-Authenticator = 0x00\n'
    )
    before = await asyncio.to_thread(
        radclient, radius_server.auth, "auth", point.radius_secret, login, timeout=5.0
    )
    assert before.code == "Access-Accept", before.output
    retired = await http.patch(
        f"{ADMIN}/points/{point.nas_id}", json={"retire": True}, headers=tokens[Role.TECHNICIAN]
    )
    assert retired.status_code == 200 and retired.json()["retired_at"]
    reply = await asyncio.to_thread(
        radclient, radius_server.auth, "auth", point.radius_secret, login, timeout=5.0
    )
    assert reply.code == "Access-Reject", reply.output


async def test_status_server_turns_a_point_online(
    runtime: Runtime,
    http: httpx.AsyncClient,
    tokens: dict[Role, dict[str, str]],
    radius_server: RadiusProcess,
) -> None:
    point = await create_point(runtime)
    url = f"{ADMIN}/points/{point.nas_id}"
    assert (await http.get(url, headers=tokens[Role.ANALYST])).json()["status"]["online"] is False
    status = await asyncio.to_thread(
        radclient,
        radius_server.acct,
        "status",
        point.radius_secret,
        f'NAS-Identifier = "{point.nas_id}"\nMessage-Authenticator = 0x00\n',
    )
    assert status.code == "Accounting-Response", status.output
    for _ in range(50):  # the server writes what it saw every 0.2 s in this test
        shown = (await http.get(url, headers=tokens[Role.ANALYST])).json()["status"]
        if shown["online"]:
            break
        await asyncio.sleep(0.1)
    assert shown["online"] is True and shown["last_seen_at"]

"""The real server (`cautiva radius`) driven by the independent client `radclient`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pyrad.packet import AcctPacket, AuthPacket
from sqlalchemy import select

from cautiva.database import transaction
from cautiva.models import AccountingSession, Disconnect, Grant, NasType, Point
from cautiva.runtime import Runtime
from factories import create_point, issue
from radius import wire
from radius.dictionary import load_dictionary
from radius_harness import CAUTIVA, RadclientResult, RadiusProcess, radclient


def auth_request(
    user: str,
    password: str,
    point: Point,
    *,
    mac: str = "AA-BB-CC-00-00-01",
    chap: bool = False,
    message_authenticator: bool = True,
    extra: str = "",
) -> str:
    """radclient input for an Access-Request from `point`."""
    lines = [
        f'User-Name = "{user}"',
        f'{"CHAP-Password" if chap else "User-Password"} = "{password}"',
        f'NAS-Identifier = "{point.nas_id}"',
        f'Calling-Station-Id = "{mac}"',
        "NAS-IP-Address = 127.0.0.1",
        "Service-Type = Login-User",
    ]
    if message_authenticator:
        lines.append("Message-Authenticator = 0x00")
    return "\n".join(lines) + "\n" + extra


def acct_request(status: str, user: str, point: Point, session_id: str, **values: object) -> str:
    """radclient input for an Accounting-Request."""
    lines = [
        f"Acct-Status-Type = {status}",
        f'User-Name = "{user}"',
        f'Acct-Session-Id = "{session_id}"',
        f'NAS-Identifier = "{point.nas_id}"',
        'Calling-Station-Id = "AA:BB:CC:00:00:01"',
        "Framed-IP-Address = 10.5.50.7",
    ]
    lines += [f"{name.replace('_', '-')} = {value}" for name, value in values.items()]
    return "\n".join(lines) + "\n"


async def send(
    address: tuple[str, int], command: str, secret: str, text: str, **kwargs: object
) -> RadclientResult:
    """Run radclient in a thread so the event loop stays free."""
    return await asyncio.to_thread(radclient, address, command, secret, text, **kwargs)  # type: ignore[arg-type]


async def session_row(runtime: Runtime, point: Point, session_id: str) -> AccountingSession:
    """The accounting record for (point, Acct-Session-Id)."""
    async with transaction(runtime.sessions) as db:
        row = (
            await db.execute(
                select(AccountingSession).where(
                    AccountingSession.point_id == point.id,
                    AccountingSession.acct_session_id == session_id,
                )
            )
        ).scalar_one()
        return row


def stats(server: RadiusProcess, wait: float = 1.3) -> dict[str, int]:
    """The server's counters (it writes them every second)."""
    time.sleep(wait)
    path = Path(server.env["CAUTIVA_DATA_DIR"]) / "radius-stats.json"
    return dict(json.loads(path.read_text()))


@pytest.mark.parametrize("chap", [False, True], ids=["pap", "chap"])
async def test_mikrotik_login_is_accepted_for_one_hour(
    runtime: Runtime, radius_server: RadiusProcess, chap: bool
) -> None:
    point = await create_point(runtime, nas_type=NasType.MIKROTIK)
    grant = await issue(runtime, point)
    reply = await send(
        radius_server.auth,
        "auth",
        point.radius_secret,
        auth_request(grant.username, grant.password, point, chap=chap),
    )
    assert reply.code == "Access-Accept", reply.output
    assert reply.attribute_order[0] == "Message-Authenticator"
    assert reply.one("Session-Timeout") == "3600"
    assert reply.one("Idle-Timeout") == "600"
    assert reply.one("Acct-Interim-Interval") == "300"
    assert reply.one("Mikrotik-Rate-Limit") == "1024k/2048k"
    assert "Class" in reply.attributes
    assert "WISPr-Bandwidth-Max-Down" not in reply.attributes


async def test_chilli_gets_chillispot_and_wispr_bandwidth(
    runtime: Runtime, radius_server: RadiusProcess
) -> None:
    point = await create_point(
        runtime, nas_type=NasType.CHILLI, rate_down_kbps=4000, rate_up_kbps=500
    )
    grant = await issue(runtime, point)
    reply = await send(
        radius_server.auth,
        "auth",
        point.radius_secret,
        auth_request(grant.username, grant.password, point, chap=True),
    )
    assert reply.code == "Access-Accept", reply.output
    assert reply.one("Session-Timeout") == "3600"
    assert reply.one("ChilliSpot-Bandwidth-Max-Down") == "4000"
    assert reply.one("ChilliSpot-Bandwidth-Max-Up") == "500"
    assert reply.one("WISPr-Bandwidth-Max-Down") == "4000000"
    assert reply.one("WISPr-Bandwidth-Max-Up") == "500000"
    assert "Mikrotik-Rate-Limit" not in reply.attributes


async def test_uspot_gets_wispr_bandwidth(runtime: Runtime, radius_server: RadiusProcess) -> None:
    point = await create_point(runtime, nas_type=NasType.USPOT)
    grant = await issue(runtime, point)
    reply = await send(
        radius_server.auth,
        "auth",
        point.radius_secret,
        auth_request(grant.username, grant.password, point),
    )
    assert reply.code == "Access-Accept", reply.output
    assert reply.one("WISPr-Bandwidth-Max-Down") == "2048000"
    assert reply.one("WISPr-Bandwidth-Max-Up") == "1024000"
    assert "ChilliSpot-Bandwidth-Max-Down" not in reply.attributes


async def test_wrong_password_is_rejected_after_the_reject_delay(
    runtime: Runtime, radius_server: RadiusProcess
) -> None:
    point = await create_point(runtime)
    grant = await issue(runtime, point)
    started = time.monotonic()
    reply = await send(
        radius_server.auth,
        "auth",
        point.radius_secret,
        auth_request(grant.username, "not-the-password", point),
    )
    assert reply.code == "Access-Reject", reply.output
    assert time.monotonic() - started >= 0.3
    assert reply.attribute_order[0] == "Message-Authenticator"
    assert "mistyped" in reply.one("Reply-Message")


async def test_unknown_nas_wrong_secret_and_missing_authenticator_get_no_answer(
    runtime: Runtime, radius_server: RadiusProcess
) -> None:
    point = await create_point(runtime)
    grant = await issue(runtime, point)
    before = stats(radius_server)
    stranger = Point(nas_id="nobody-knows-me", radius_secret=point.radius_secret)
    no_answer = [
        (point.radius_secret, auth_request(grant.username, grant.password, stranger)),
        ("wrong-secret-0123456789", auth_request(grant.username, grant.password, point)),
        (
            point.radius_secret,
            auth_request(grant.username, grant.password, point, message_authenticator=False),
        ),
    ]
    for secret, text in no_answer:
        reply = await send(radius_server.auth, "auth", secret, text, retries=1, timeout=0.7)
        assert reply.code is None, reply.output
    after = stats(radius_server)
    assert after.get("dropped.unknown_client", 0) > before.get("dropped.unknown_client", 0)
    assert after.get("dropped.bad_message_authenticator", 0) > before.get(
        "dropped.bad_message_authenticator", 0
    )
    assert after.get("dropped.missing_message_authenticator", 0) > before.get(
        "dropped.missing_message_authenticator", 0
    )
    radius_server.wait_for_log("nobody-knows-me")


async def test_old_routeros_may_be_allowed_without_message_authenticator(
    runtime: Runtime, radius_server: RadiusProcess
) -> None:
    point = await create_point(runtime, require_message_authenticator=False)
    grant = await issue(runtime, point)
    reply = await send(
        radius_server.auth,
        "auth",
        point.radius_secret,
        auth_request(grant.username, grant.password, point, message_authenticator=False),
    )
    assert reply.code == "Access-Accept", reply.output
    # Still signed: BlastRADIUS says every Access-Accept carries it, first.
    assert reply.attribute_order[0] == "Message-Authenticator"


async def test_status_server_on_both_ports(runtime: Runtime, radius_server: RadiusProcess) -> None:
    point = await create_point(runtime)
    text = f'NAS-Identifier = "{point.nas_id}"\nMessage-Authenticator = 0x00\n'
    auth = await send(radius_server.auth, "status", point.radius_secret, text)
    acct = await send(radius_server.acct, "status", point.radius_secret, text)
    assert auth.code == "Access-Accept", auth.output
    assert acct.code == "Accounting-Response", acct.output
    assert auth.attribute_order[0] == "Message-Authenticator"
    unsigned = await send(
        radius_server.auth,
        "status",
        point.radius_secret,
        f'NAS-Identifier = "{point.nas_id}"\n',
        timeout=0.7,
    )
    assert unsigned.code is None


async def test_proxy_state_is_echoed(runtime: Runtime, radius_server: RadiusProcess) -> None:
    point = await create_point(runtime)
    grant = await issue(runtime, point)
    reply = await send(
        radius_server.auth,
        "auth",
        point.radius_secret,
        auth_request(
            grant.username, grant.password, point, extra="Proxy-State = 0x6361757469766131\n"
        ),
    )
    assert reply.code == "Access-Accept", reply.output
    assert reply.one("Proxy-State") == "0x6361757469766131"


async def test_grant_is_bound_to_its_point_and_first_device(
    runtime: Runtime, radius_server: RadiusProcess
) -> None:
    point = await create_point(runtime)
    other = await create_point(runtime)
    grant = await issue(runtime, point)
    elsewhere = await send(
        radius_server.auth,
        "auth",
        other.radius_secret,
        auth_request(grant.username, grant.password, other),
    )
    assert elsewhere.code == "Access-Reject"
    assert "another Wi-Fi point" in elsewhere.one("Reply-Message")
    first = await send(
        radius_server.auth,
        "auth",
        point.radius_secret,
        auth_request(grant.username, grant.password, point, mac="aa:bb:cc:00:00:09"),
    )
    assert first.code == "Access-Accept"
    second_device = await send(
        radius_server.auth,
        "auth",
        point.radius_secret,
        auth_request(grant.username, grant.password, point, mac="AA-BB-CC-00-00-0A"),
    )
    assert second_device.code == "Access-Reject"
    assert "another device" in second_device.one("Reply-Message")
    async with transaction(runtime.sessions) as db:
        stored = (
            await db.execute(select(Grant).where(Grant.username == grant.username))
        ).scalar_one()
    assert stored.mac == "AA:BB:CC:00:00:09"
    assert stored.first_login_at is not None


async def test_accounting_lifecycle_with_gigawords(
    runtime: Runtime, radius_server: RadiusProcess
) -> None:
    point = await create_point(runtime)
    grant = await issue(runtime, point)
    secret = point.radius_secret
    for status, values in [
        ("Start", {}),
        (
            "Interim-Update",
            {
                "Acct-Session-Time": 300,
                "Acct-Input-Octets": 1000,
                "Acct-Output-Octets": 5000,
                "Acct-Output-Gigawords": 1,
            },
        ),
        (
            "Stop",
            {
                "Acct-Session-Time": 600,
                "Acct-Input-Octets": 2000,
                "Acct-Output-Octets": 7000,
                "Acct-Output-Gigawords": 2,
                "Acct-Input-Gigawords": 1,
                "Acct-Terminate-Cause": "User-Request",
            },
        ),
    ]:
        reply = await send(
            radius_server.acct,
            "acct",
            secret,
            acct_request(status, grant.username, point, "life-1", **values),
        )
        assert reply.code == "Accounting-Response", reply.output
    row = await session_row(runtime, point, "life-1")
    assert row.session_time == 600
    assert row.input_bytes == (1 << 32) + 2000
    assert row.output_bytes == (2 << 32) + 7000
    assert row.stopped_at is not None and row.terminate_cause == "User-Request"
    assert row.framed_ip == "10.5.50.7" and row.mac == "AA:BB:CC:00:00:01"
    # A late Interim-Update (out of order) neither reopens nor shrinks the session.
    late = await send(
        radius_server.acct,
        "acct",
        secret,
        acct_request("Interim-Update", grant.username, point, "life-1", Acct_Session_Time=300),
    )
    assert late.code == "Accounting-Response"
    row = await session_row(runtime, point, "life-1")
    assert row.stopped_at is not None and row.session_time == 600


async def test_accounting_on_closes_the_routers_sessions(
    runtime: Runtime, radius_server: RadiusProcess
) -> None:
    point = await create_point(runtime)
    grant = await issue(runtime, point)
    for session_id in ("boot-1", "boot-2"):
        reply = await send(
            radius_server.acct,
            "acct",
            point.radius_secret,
            acct_request("Start", grant.username, point, session_id),
        )
        assert reply.code == "Accounting-Response"
    on = await send(
        radius_server.acct,
        "acct",
        point.radius_secret,
        f'Acct-Status-Type = Accounting-On\nNAS-Identifier = "{point.nas_id}"\n'
        'Acct-Session-Id = "0"\n',
    )
    assert on.code == "Accounting-Response", on.output
    for session_id in ("boot-1", "boot-2"):
        row = await session_row(runtime, point, session_id)
        assert row.stopped_at is not None
        assert row.terminate_cause == "NAS-Reboot"


async def test_used_time_carries_over_to_a_reconnect(
    runtime: Runtime, radius_server: RadiusProcess
) -> None:
    point = await create_point(runtime)
    grant = await issue(runtime, point)
    login = auth_request(grant.username, grant.password, point)
    assert (
        await send(radius_server.auth, "auth", point.radius_secret, login)
    ).code == "Access-Accept"
    stop = acct_request(
        "Stop",
        grant.username,
        point,
        "forty",
        Acct_Session_Time=2400,
        Acct_Terminate_Cause="Idle-Timeout",
    )
    assert (await send(radius_server.acct, "acct", point.radius_secret, stop)).code == (
        "Accounting-Response"
    )
    again = await send(radius_server.auth, "auth", point.radius_secret, login)
    assert again.code == "Access-Accept"
    assert 1190 <= int(again.one("Session-Timeout")) <= 1200
    stop = acct_request(
        "Stop",
        grant.username,
        point,
        "twenty",
        Acct_Session_Time=1200,
        Acct_Terminate_Cause="Session-Timeout",
    )
    assert (await send(radius_server.acct, "acct", point.radius_secret, stop)).code == (
        "Accounting-Response"
    )
    done = await send(radius_server.auth, "auth", point.radius_secret, login)
    assert done.code == "Access-Reject"
    assert "used up" in done.one("Reply-Message")


@contextlib.asynccontextmanager
async def point_with_fake_nas(runtime: Runtime) -> AsyncIterator[tuple[Point, FakeNas]]:
    """A point whose Disconnect-Requests go to a FakeNas listening on a free port."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        coa_port = probe.getsockname()[1]
    point = await create_point(runtime, coa_port=coa_port)
    nas = FakeNas(point.radius_secret.encode())
    transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
        lambda: nas, local_addr=("127.0.0.1", coa_port)
    )
    try:
        yield point, nas
    finally:
        transport.close()


class FakeNas(asyncio.DatagramProtocol):
    """A router's RFC 5176 listener: verifies Disconnect-Requests and ACKs them."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret
        self.requests: list[AcctPacket] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        assert data[0] == wire.DISCONNECT_REQUEST
        assert wire.request_authenticator_valid(data, self.secret)
        assert wire.message_authenticator_valid(
            data, self.secret, authenticator=wire.ZERO_AUTHENTICATOR
        )
        from pyrad.packet import CoAPacket

        request = CoAPacket(packet=data, dict=load_dictionary(), secret=self.secret)
        self.requests.append(request)
        reply = request.CreateReply()
        assert self.transport is not None
        self.transport.sendto(reply.ReplyPacket(), addr)


async def test_overrun_session_is_disconnected(
    runtime: Runtime, radius_server: RadiusProcess
) -> None:
    async with point_with_fake_nas(runtime) as (point, nas):
        grant = await issue(runtime, point)
        login = auth_request(grant.username, grant.password, point)
        assert (await send(radius_server.auth, "auth", point.radius_secret, login)).code == (
            "Access-Accept"
        )
        # The router ignored Session-Timeout: its interim says 65 minutes online.
        interim = acct_request(
            "Interim-Update", grant.username, point, "overrun-1", Acct_Session_Time=3900
        )
        assert (await send(radius_server.acct, "acct", point.radius_secret, interim)).code == (
            "Accounting-Response"
        )
        for _ in range(100):
            if nas.requests:
                break
            await asyncio.sleep(0.05)
        assert len(nas.requests) == 1
        request = nas.requests[0]
        assert request["User-Name"] == [grant.username]
        assert request["Acct-Session-Id"] == ["overrun-1"]
        assert request["Framed-IP-Address"] == ["10.5.50.7"]
        assert request["Calling-Station-Id"] == ["AA:BB:CC:00:00:01"]
        row = await session_row(runtime, point, "overrun-1")
        for _ in range(50):
            async with transaction(runtime.sessions) as db:
                record = (
                    await db.execute(select(Disconnect).where(Disconnect.session_id == row.id))
                ).scalar_one_or_none()
            if record is not None and record.result != "pending":
                break
            await asyncio.sleep(0.1)
        assert record is not None and record.result == "ack" and record.reason == "overrun"


async def test_retransmission_is_answered_from_cache_and_counted_once(
    runtime: Runtime, radius_server: RadiusProcess
) -> None:
    point = await create_point(runtime)
    grant = await issue(runtime, point)
    secret = point.radius_secret.encode()
    dictionary = load_dictionary()
    acct = AcctPacket(dict=dictionary, secret=secret, id=77)
    acct.AddAttribute("Acct-Status-Type", "Interim-Update")
    acct.AddAttribute("User-Name", grant.username)
    acct.AddAttribute("Acct-Session-Id", "dup-1")
    acct.AddAttribute("NAS-Identifier", point.nas_id)
    acct.AddAttribute("Acct-Session-Time", 120)
    acct.AddAttribute("Acct-Input-Octets", 4096)
    acct_bytes = acct.RequestPacket()
    access = AuthPacket(dict=dictionary, secret=secret, id=78)
    access.add_message_authenticator()
    access.AddAttribute("User-Name", grant.username)
    access.AddAttribute("User-Password", access.PwCrypt(grant.password))
    access.AddAttribute("NAS-Identifier", point.nas_id)
    access_bytes = access.RequestPacket()
    before = stats(radius_server)

    def exchange(datagram: bytes, address: tuple[str, int], times: int) -> list[bytes]:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(3)
            sock.bind(("127.0.0.1", 0))
            replies = []
            for _ in range(times):
                sock.sendto(datagram, address)
                replies.append(sock.recv(4096))
            return replies

    acct_replies = await asyncio.to_thread(exchange, acct_bytes, radius_server.acct, 3)
    access_replies = await asyncio.to_thread(exchange, access_bytes, radius_server.auth, 2)
    assert len(set(acct_replies)) == 1 and acct_replies[0][0] == wire.ACCOUNTING_RESPONSE
    assert len(set(access_replies)) == 1 and access_replies[0][0] == wire.ACCESS_ACCEPT
    after = stats(radius_server)
    assert (
        after["duplicate.answered_from_cache"] - before.get("duplicate.answered_from_cache", 0) == 3
    )
    assert after["accounting.recorded"] - before.get("accounting.recorded", 0) == 1
    assert after["access.accept"] - before.get("access.accept", 0) == 1
    row = await session_row(runtime, point, "dup-1")
    assert row.session_time == 120 and row.input_octets == 4096


async def test_cli_disconnects_a_session_by_hand(
    runtime: Runtime, radius_server: RadiusProcess
) -> None:
    async with point_with_fake_nas(runtime) as (point, nas):
        grant = await issue(runtime, point)
        start = acct_request("Start", grant.username, point, "by-hand")
        assert (await send(radius_server.acct, "acct", point.radius_secret, start)).code == (
            "Accounting-Response"
        )
        row = await session_row(runtime, point, "by-hand")
        completed = await asyncio.create_subprocess_exec(
            CAUTIVA,
            "session",
            "disconnect",
            str(row.id),
            "--json",
            env=radius_server.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(completed.communicate(), 60)
        assert completed.returncode == 0, err.decode()
        assert json.loads(out)["result"] == "ack"
        assert [r["Acct-Session-Id"] for r in nas.requests] == [["by-hand"]]
        async with transaction(runtime.sessions) as db:
            record = (
                await db.execute(select(Disconnect).where(Disconnect.session_id == row.id))
            ).scalar_one()
        assert (record.result, record.reason, record.attempts) == ("ack", "admin", 1)

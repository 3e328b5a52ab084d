"""Sending Disconnect-Requests (RFC 5176) to a fake NAS on the loopback interface."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import struct
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import cast

import pytest
from pyrad.packet import CoAPacket, DisconnectACK, DisconnectNAK, DisconnectRequest

from radius import wire
from radius.coa import DisconnectRequestSpec, send_disconnect
from radius.dictionary import load_dictionary

SECRET = b"coa-test-shared-secret"
WRONG_SECRET = b"not-the-shared-secret"
REPLY_WAIT = 0.2


@dataclass
class Received:
    """What the fake NAS checked in one datagram."""

    datagram: bytes
    request_authenticator_ok: bool
    message_authenticator_ok: bool
    attributes: dict[str, list[object]]


Answer = Callable[[CoAPacket], bytes | None]


@dataclass
class FakeNas(asyncio.DatagramProtocol):
    """A router's CoA listener: checks each Disconnect-Request, then answers via `answer`."""

    answer: Answer
    received: list[Received] = field(default_factory=list)
    transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        request = CoAPacket(packet=data, secret=SECRET, dict=load_dictionary())
        attributes = {
            name: request[name]
            for name in (
                "User-Name",
                "Acct-Session-Id",
                "Framed-IP-Address",
                "Calling-Station-Id",
                "NAS-Identifier",
                "Event-Timestamp",
            )
            if name in request
        }
        self.received.append(
            Received(
                datagram=data,
                request_authenticator_ok=wire.request_authenticator_valid(data, SECRET),
                message_authenticator_ok=wire.message_authenticator_valid(
                    data, SECRET, authenticator=wire.ZERO_AUTHENTICATOR
                ),
                attributes=attributes,
            )
        )
        reply = self.answer(request)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


def ack(request: CoAPacket) -> bytes:
    reply = request.CreateReply()
    assert reply.code == DisconnectACK
    return reply.ReplyPacket()


def signed_ack(request: CoAPacket) -> bytes:
    reply = request.CreateReply()
    reply.add_message_authenticator()
    return reply.ReplyPacket()


def nak_503(request: CoAPacket) -> bytes:
    reply = request.CreateReply()
    reply.code = DisconnectNAK
    reply.AddAttribute("Error-Cause", 503)  # Session-Context-Not-Found
    return reply.ReplyPacket()


def silent(request: CoAPacket) -> None:
    return None


def ack_with_wrong_secret(request: CoAPacket) -> bytes:
    reply = request.CreateReply()
    reply.secret = WRONG_SECRET
    return reply.ReplyPacket()


def _raw_reply(
    request: CoAPacket, code: int, attributes: bytes, identifier: int | None = None
) -> bytes:
    ident = request.id if identifier is None else identifier
    header = struct.pack("!BBH", code, ident, wire.HEADER_LENGTH + len(attributes))
    digest = hashlib.md5(header + request.authenticator + attributes + SECRET).digest()
    return header + digest + attributes


def ack_with_bad_message_authenticator(request: CoAPacket) -> bytes:
    # A correct Response Authenticator over a Message-Authenticator that is not the HMAC.
    return _raw_reply(request, DisconnectACK, bytes((80, 18)) + b"\x5a" * 16)


def ack_with_good_raw_message_authenticator(request: CoAPacket) -> bytes:
    header = struct.pack("!BBH", DisconnectACK, request.id, wire.HEADER_LENGTH + 18)
    zeroed = bytes((80, 18)) + bytes(16)
    mac = hmac.new(SECRET, header + request.authenticator + zeroed, hashlib.md5).digest()
    return _raw_reply(request, DisconnectACK, bytes((80, 18)) + mac)


@pytest.fixture
async def start_nas() -> AsyncIterator[Callable[[Answer], asyncio.Future[tuple[FakeNas, int]]]]:
    transports: list[asyncio.BaseTransport] = []
    loop = asyncio.get_running_loop()

    async def start(answer: Answer) -> tuple[FakeNas, int]:
        transport, protocol = await loop.create_datagram_endpoint(
            lambda: FakeNas(answer), local_addr=("127.0.0.1", 0)
        )
        transports.append(transport)
        return protocol, transport.get_extra_info("sockname")[1]

    yield start  # type: ignore[misc]
    for transport in transports:
        transport.close()


def spec(port: int, **changes: object) -> DisconnectRequestSpec:
    values: dict[str, object] = {
        "address": "127.0.0.1",
        "port": port,
        "secret": SECRET,
        "username": "abcdefghjk",
        "acct_session_id": "80000042",
        "framed_ip": "10.5.50.23",
        "mac": "AA:BB:CC:DD:EE:FF",
        "nas_identifier": "nas-coa-test",
    }
    values.update(changes)
    return DisconnectRequestSpec(**values)  # type: ignore[arg-type]


async def disconnect(port: int, *, tries: int = 3, **changes: object):  # type: ignore[no-untyped-def]
    return await send_disconnect(
        spec(port, **changes), dictionary=load_dictionary(), reply_wait=REPLY_WAIT, tries=tries
    )


async def test_ack(start_nas) -> None:  # type: ignore[no-untyped-def]
    nas, port = await start_nas(ack)
    result = await disconnect(port)
    assert result.result == "ack"
    assert result.attempts == 1
    assert result.error_cause is None
    assert len(nas.received) == 1


async def test_request_is_signed_and_names_the_session(start_nas) -> None:  # type: ignore[no-untyped-def]
    nas, port = await start_nas(ack)
    await disconnect(port)
    (seen,) = nas.received
    assert seen.datagram[0] == DisconnectRequest
    assert seen.request_authenticator_ok
    assert seen.message_authenticator_ok
    # BlastRADIUS hygiene: the Message-Authenticator comes first.
    assert wire.first_attribute_type(seen.datagram) == wire.MESSAGE_AUTHENTICATOR
    assert seen.attributes["User-Name"] == ["abcdefghjk"]
    assert seen.attributes["Acct-Session-Id"] == ["80000042"]
    assert seen.attributes["Framed-IP-Address"] == ["10.5.50.23"]
    assert seen.attributes["Calling-Station-Id"] == ["AA:BB:CC:DD:EE:FF"]
    assert seen.attributes["NAS-Identifier"] == ["nas-coa-test"]
    assert "Event-Timestamp" in seen.attributes
    # The whole datagram is well framed.
    wire.parse_frame(seen.datagram, max_attributes=100)


async def test_request_signed_with_the_wrong_secret_fails_the_nas_checks(start_nas) -> None:  # type: ignore[no-untyped-def]
    nas, port = await start_nas(silent)
    await disconnect(port, tries=1, secret=WRONG_SECRET)
    (seen,) = nas.received
    assert not seen.request_authenticator_ok
    assert not seen.message_authenticator_ok


async def test_optional_attributes_are_left_out(start_nas) -> None:  # type: ignore[no-untyped-def]
    nas, port = await start_nas(ack)
    result = await disconnect(port, framed_ip=None, mac=None, nas_identifier=None)
    assert result.result == "ack"
    (seen,) = nas.received
    assert seen.request_authenticator_ok
    assert seen.message_authenticator_ok
    assert set(seen.attributes) == {"User-Name", "Acct-Session-Id", "Event-Timestamp"}


async def test_ack_with_a_message_authenticator(start_nas) -> None:  # type: ignore[no-untyped-def]
    _, port = await start_nas(signed_ack)
    result = await disconnect(port)
    assert result.result == "ack"


async def test_ack_with_a_hand_made_message_authenticator(start_nas) -> None:  # type: ignore[no-untyped-def]
    _, port = await start_nas(ack_with_good_raw_message_authenticator)
    result = await disconnect(port)
    assert result.result == "ack"


async def test_nak_with_error_cause(start_nas) -> None:  # type: ignore[no-untyped-def]
    nas, port = await start_nas(nak_503)
    result = await disconnect(port)
    assert result.result == "nak"
    assert result.error_cause == 503
    assert result.attempts == 1
    assert len(nas.received) == 1


async def test_silent_nas_times_out_after_tries_identical_datagrams(start_nas) -> None:  # type: ignore[no-untyped-def]
    nas, port = await start_nas(silent)
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = await disconnect(port, tries=3)
    elapsed = loop.time() - started
    assert result.result == "timeout"
    assert result.attempts == 3
    assert result.error_cause is None
    assert len(nas.received) == 3
    assert len({seen.datagram for seen in nas.received}) == 1
    assert elapsed >= 3 * REPLY_WAIT * 0.9


async def test_nas_answering_the_second_try(start_nas) -> None:  # type: ignore[no-untyped-def]
    calls: list[int] = []

    def second_time(request: CoAPacket) -> bytes | None:
        calls.append(1)
        return ack(request) if len(calls) == 2 else None

    nas, port = await start_nas(second_time)
    result = await disconnect(port, tries=3)
    assert result.result == "ack"
    assert result.attempts == 2
    assert len(nas.received) == 2


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(ack_with_wrong_secret, id="wrong-secret"),
        pytest.param(ack_with_bad_message_authenticator, id="bad-message-authenticator"),
        pytest.param(lambda r: _raw_reply(r, DisconnectACK, b"", (r.id + 1) % 256), id="wrong-id"),
        pytest.param(lambda r: _raw_reply(r, 2, b""), id="wrong-code"),
        pytest.param(lambda r: b"\x29", id="runt"),
    ],
)
async def test_invalid_replies_are_ignored(start_nas, answer: Answer) -> None:  # type: ignore[no-untyped-def]
    nas, port = await start_nas(answer)
    result = await disconnect(port, tries=2)
    assert result.result == "timeout"
    assert result.attempts == 2
    assert len(nas.received) == 2


async def test_an_invalid_reply_does_not_hide_a_valid_one(start_nas) -> None:  # type: ignore[no-untyped-def]
    nas_holder: list[FakeNas] = []

    def forged_then_real(request: CoAPacket) -> bytes:
        nas = nas_holder[0]
        assert nas.transport is not None
        # A forged reply first, then the real one, both for the same try.
        nas.transport.sendto(ack_with_wrong_secret(request), ("127.0.0.1", nas.last_port))
        return nak_503(request)

    class Tracking(FakeNas):
        last_port = 0

        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            self.last_port = addr[1]
            super().datagram_received(data, addr)

    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: Tracking(forged_then_real), local_addr=("127.0.0.1", 0)
    )
    nas_holder.append(protocol)
    try:
        result = await disconnect(transport.get_extra_info("sockname")[1])
    finally:
        transport.close()
    assert result.result == "nak"
    assert result.error_cause == 503
    assert result.attempts == 1

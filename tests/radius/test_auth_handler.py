"""Access-Request handling: PAP and CHAP against the grant password, and the reply packet."""

from __future__ import annotations

import hashlib
import struct

import pytest
from pyrad.packet import AccessAccept, AccessReject, AuthPacket

from cautiva.credentials import grant_password
from cautiva.grants.service import LoginAttempt
from cautiva.models.points import NasType
from cautiva.policy import Accept, Decision, PointView, Reject, RejectReason
from radius import wire
from radius.auth import UNSUPPORTED_METHOD, WRONG_PASSWORD, AuthHandler
from radius.clients import RadiusClient
from radius.dictionary import load_dictionary

SECRET_KEY = "auth-handler-test-key-" + "x" * 40
RADIUS_SECRET = b"auth-handler-radius-secret"
USERNAME = "abcdefghjk"
PASSWORD = grant_password(SECRET_KEY, USERNAME)
# The right password with its last character changed.
NEAR_MISS = PASSWORD[:-1] + ("a" if PASSWORD[-1] != "a" else "b")
MAC = "AA:BB:CC:DD:EE:FF"
POINT = PointView(id=11, nas_type=NasType.MIKROTIK, active=True)
CLIENT = RadiusClient(
    view=POINT,
    nas_id="nas-auth-test",
    secret=RADIUS_SECRET,
    fixed_address=None,
    require_message_authenticator=True,
    coa_port=3799,
)
ACCEPT = Accept(
    session_timeout=1234,
    reply=(
        ("Session-Timeout", 1234),
        ("Idle-Timeout", 600),
        ("Acct-Interim-Interval", 300),
        ("Class", "cautiva:grant:77"),
        ("Mikrotik-Rate-Limit", "1024k/2048k"),
    ),
    bind_mac=True,
    first_login=True,
)


class FakeAuthorize:
    def __init__(self, decision: Decision = ACCEPT) -> None:
        self.decision = decision
        self.calls: list[LoginAttempt] = []

    async def __call__(self, attempt: LoginAttempt) -> Decision:
        self.calls.append(attempt)
        return self.decision


def new_request(*, authenticator: bytes | None = None) -> AuthPacket:
    request = AuthPacket(
        id=99,
        secret=RADIUS_SECRET,
        dict=load_dictionary(),
        authenticator=authenticator or bytes(range(16)),
    )
    request.add_message_authenticator()
    request.AddAttribute("User-Name", USERNAME)
    request.AddAttribute("NAS-Identifier", CLIENT.nas_id)
    request.AddAttribute("Calling-Station-Id", "aa-bb-cc-dd-ee-ff")
    return request


def set_pap(request: AuthPacket, password: str) -> AuthPacket:
    request["User-Password"] = request.PwCrypt(password)
    return request


def chap_password(chap_id: int, password: str, challenge: bytes) -> bytes:
    ident = bytes((chap_id,))
    return ident + hashlib.md5(ident + password.encode() + challenge).digest()


def set_chap(
    request: AuthPacket, password: str, *, challenge: bytes | None = None, chap_id: int = 7
) -> AuthPacket:
    if challenge is None:
        # Without CHAP-Challenge the Request Authenticator is the challenge (RFC 2865 §2.2).
        request["CHAP-Password"] = chap_password(chap_id, password, request.authenticator)
    else:
        request["CHAP-Challenge"] = challenge
        request["CHAP-Password"] = chap_password(chap_id, password, challenge)
    return request


def on_the_wire(request: AuthPacket) -> AuthPacket:
    """Encode the request and decode it as the server does."""
    return AuthPacket(packet=request.RequestPacket(), secret=RADIUS_SECRET, dict=load_dictionary())


async def handle(
    request: AuthPacket, authorize: FakeAuthorize | None = None
) -> tuple[AuthPacket, FakeAuthorize]:
    authorize = authorize or FakeAuthorize()
    handler = AuthHandler(secret_key=SECRET_KEY, authorize=authorize)
    reply = await handler.handle(on_the_wire(request), CLIENT)
    return reply, authorize


def decoded(reply: AuthPacket) -> tuple[bytes, AuthPacket]:
    raw = reply.ReplyPacket()
    return raw, AuthPacket(packet=raw, secret=RADIUS_SECRET, dict=load_dictionary())


# --- PAP ------------------------------------------------------------------------------------


async def test_pap_right_password_is_accepted() -> None:
    reply, authorize = await handle(set_pap(new_request(), PASSWORD))
    assert reply.code == AccessAccept
    assert authorize.calls == [LoginAttempt(point=POINT, username=USERNAME, mac=MAC)]


async def test_pap_wrong_password_is_rejected_without_asking_the_policy() -> None:
    reply, authorize = await handle(set_pap(new_request(), NEAR_MISS))
    assert reply.code == AccessReject
    assert reply["Reply-Message"] == [WRONG_PASSWORD]
    assert authorize.calls == []


async def test_pap_password_of_another_key_is_rejected() -> None:
    other = grant_password("another-key-" + "y" * 40, USERNAME)
    reply, authorize = await handle(set_pap(new_request(), other))
    assert reply.code == AccessReject
    assert authorize.calls == []


async def test_pap_password_of_another_user_is_rejected() -> None:
    other = grant_password(SECRET_KEY, "zzzzzzzzzz")
    reply, authorize = await handle(set_pap(new_request(), other))
    assert reply.code == AccessReject
    assert authorize.calls == []


async def test_pap_with_the_wrong_radius_secret_is_rejected() -> None:
    request = new_request()
    request.secret = b"not-the-shared-secret"
    set_pap(request, PASSWORD)
    request.secret = RADIUS_SECRET
    reply, authorize = await handle(request)
    assert reply.code == AccessReject
    assert authorize.calls == []


async def test_pap_of_invalid_length_is_rejected() -> None:
    request = new_request()
    request["User-Password"] = b"0123456789"  # not a multiple of 16 octets
    reply, authorize = await handle(request)
    assert reply.code == AccessReject
    assert reply["Reply-Message"] == [WRONG_PASSWORD]
    assert authorize.calls == []


# --- CHAP -----------------------------------------------------------------------------------


@pytest.mark.parametrize("challenge", [None, b"0123456789abcdef\x00\xff"], ids=["auth", "attr"])
async def test_chap_right_password_is_accepted(challenge: bytes | None) -> None:
    reply, authorize = await handle(set_chap(new_request(), PASSWORD, challenge=challenge))
    assert reply.code == AccessAccept
    assert [call.username for call in authorize.calls] == [USERNAME]


@pytest.mark.parametrize("challenge", [None, b"0123456789abcdef"], ids=["auth", "attr"])
async def test_chap_wrong_password_is_rejected(challenge: bytes | None) -> None:
    reply, authorize = await handle(set_chap(new_request(), NEAR_MISS, challenge=challenge))
    assert reply.code == AccessReject
    assert reply["Reply-Message"] == [WRONG_PASSWORD]
    assert authorize.calls == []


async def test_chap_computed_over_another_challenge_is_rejected() -> None:
    request = new_request()
    request["CHAP-Challenge"] = b"the-real-challenge"
    request["CHAP-Password"] = chap_password(7, PASSWORD, b"some-other-challenge")
    reply, authorize = await handle(request)
    assert reply.code == AccessReject
    assert authorize.calls == []


async def test_chap_password_of_wrong_length_is_rejected() -> None:
    request = new_request()
    request["CHAP-Password"] = b"\x07" + bytes(10)
    reply, authorize = await handle(request)
    assert reply.code == AccessReject
    assert reply["Reply-Message"] == [WRONG_PASSWORD]
    assert authorize.calls == []


# --- Methods and usernames ------------------------------------------------------------------


async def test_both_pap_and_chap_is_rejected() -> None:
    request = set_chap(set_pap(new_request(), PASSWORD), PASSWORD)
    reply, authorize = await handle(request)
    assert reply.code == AccessReject
    assert reply["Reply-Message"] == [UNSUPPORTED_METHOD]
    assert authorize.calls == []


async def test_neither_pap_nor_chap_is_rejected() -> None:
    reply, authorize = await handle(new_request())
    assert reply.code == AccessReject
    assert reply["Reply-Message"] == [UNSUPPORTED_METHOD]
    assert authorize.calls == []


async def test_missing_username_is_rejected() -> None:
    request = AuthPacket(
        id=3, secret=RADIUS_SECRET, dict=load_dictionary(), authenticator=bytes(range(16))
    )
    request.add_message_authenticator()
    set_pap(request, PASSWORD)
    reply, authorize = await handle(request)
    assert reply.code == AccessReject
    assert reply["Reply-Message"] == [WRONG_PASSWORD]
    assert authorize.calls == []


async def test_mac_is_normalised_and_optional() -> None:
    request = AuthPacket(
        id=3, secret=RADIUS_SECRET, dict=load_dictionary(), authenticator=bytes(range(16))
    )
    request.add_message_authenticator()
    request.AddAttribute("User-Name", USERNAME)
    set_pap(request, PASSWORD)
    reply, authorize = await handle(request)
    assert reply.code == AccessAccept
    assert authorize.calls == [LoginAttempt(point=POINT, username=USERNAME, mac=None)]


# --- The policy's answer --------------------------------------------------------------------


async def test_accept_copies_the_policy_reply_attributes() -> None:
    reply, _ = await handle(set_pap(new_request(), PASSWORD))
    _, back = decoded(reply)
    assert back.code == AccessAccept
    assert back["Session-Timeout"] == [1234]
    assert back["Idle-Timeout"] == [600]
    assert back["Acct-Interim-Interval"] == [300]
    assert back["Class"] == [b"cautiva:grant:77"]
    assert back["Mikrotik-Rate-Limit"] == ["1024k/2048k"]
    assert "Reply-Message" not in back


async def test_accept_with_chilli_attributes() -> None:
    decision = Accept(
        session_timeout=60,
        reply=(
            ("Session-Timeout", 60),
            ("ChilliSpot-Bandwidth-Max-Up", 1024),
            ("WISPr-Bandwidth-Max-Down", 2_048_000),
        ),
        bind_mac=False,
        first_login=False,
    )
    reply, _ = await handle(set_pap(new_request(), PASSWORD), FakeAuthorize(decision))
    _, back = decoded(reply)
    assert back["ChilliSpot-Bandwidth-Max-Up"] == [1024]
    assert back["WISPr-Bandwidth-Max-Down"] == [2_048_000]


@pytest.mark.parametrize("reason", list(RejectReason))
async def test_policy_reject_carries_its_reply_message(reason: RejectReason) -> None:
    reply, authorize = await handle(set_pap(new_request(), PASSWORD), FakeAuthorize(Reject(reason)))
    assert len(authorize.calls) == 1
    _, back = decoded(reply)
    assert back.code == AccessReject
    assert back["Reply-Message"] == [reason.value]
    assert "Session-Timeout" not in back


# --- The encoded reply ----------------------------------------------------------------------


def _request_with_proxy_state(password: str) -> AuthPacket:
    request = set_pap(new_request(), password)
    request["Proxy-State"] = [b"proxy-one", b"proxy-two"]
    return request


@pytest.mark.parametrize("password", [PASSWORD, NEAR_MISS], ids=["accept", "reject"])
async def test_reply_is_signed_with_message_authenticator_first(password: str) -> None:
    request = _request_with_proxy_state(password)
    wire_request = on_the_wire(request)
    handler = AuthHandler(secret_key=SECRET_KEY, authorize=FakeAuthorize())
    reply = await handler.handle(wire_request, CLIENT)
    raw = reply.ReplyPacket()
    assert raw[1] == wire_request.id
    assert raw[wire.HEADER_LENGTH] == wire.MESSAGE_AUTHENTICATOR
    assert raw[wire.HEADER_LENGTH + 1] == 18
    assert wire.first_attribute_type(raw) == wire.MESSAGE_AUTHENTICATOR
    assert wire.response_authenticator_valid(raw, wire_request.authenticator, RADIUS_SECRET)
    # RFC 3579 §3.2: the reply's HMAC uses the Request Authenticator.
    assert wire.message_authenticator_valid(
        raw, RADIUS_SECRET, authenticator=wire_request.authenticator
    )
    # And the client's own check passes, Proxy-State included.
    back = AuthPacket(packet=raw, secret=RADIUS_SECRET, dict=load_dictionary())
    assert request.VerifyReply(back, raw, enforce_ma=True)


@pytest.mark.parametrize("password", [PASSWORD, NEAR_MISS], ids=["accept", "reject"])
async def test_reply_echoes_proxy_state_once_and_in_order(password: str) -> None:
    reply, _ = await handle(_request_with_proxy_state(password))
    raw, back = decoded(reply)
    assert back["Proxy-State"] == [b"proxy-one", b"proxy-two"]
    frame = wire.parse_frame(raw, max_attributes=100)
    # Count raw Proxy-State attributes (type 33): exactly the two sent, none duplicated.
    offset, seen = wire.HEADER_LENGTH, []
    while offset < len(raw):
        attr_type, length = raw[offset], raw[offset + 1]
        if attr_type == 33:
            seen.append(raw[offset + 2 : offset + length])
        offset += length
    assert seen == [b"proxy-one", b"proxy-two"]
    assert frame.has_message_authenticator


async def test_reply_length_field_matches() -> None:
    reply, _ = await handle(set_pap(new_request(), PASSWORD))
    raw = reply.ReplyPacket()
    assert struct.unpack("!H", raw[2:4])[0] == len(raw)

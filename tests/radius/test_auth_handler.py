"""Access-Request handling: PAP and CHAP against the grant password, and the reply to send."""

from __future__ import annotations

import hashlib

import pytest
from pyrad.packet import AuthPacket

from cautiva.credentials import grant_password
from cautiva.grants.service import LoginAttempt
from cautiva.models.points import NasType
from cautiva.policy import Accept, Decision, PointView, Reject, RejectReason
from radius import wire
from radius.auth import UNSUPPORTED_METHOD, WRONG_PASSWORD, AuthHandler, AuthReply
from radius.clients import RadiusClient
from radius.codec import ReplyValue, Request
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


def on_the_wire(request: AuthPacket) -> Request:
    """Encode the request and frame it as the server does."""
    return Request(wire.parse_frame(request.RequestPacket(), max_attributes=100))


async def handle(
    request: AuthPacket, authorize: FakeAuthorize | None = None
) -> tuple[AuthReply, FakeAuthorize]:
    authorize = authorize or FakeAuthorize()
    handler = AuthHandler(secret_key=SECRET_KEY, authorize=authorize)
    reply = await handler.handle(on_the_wire(request), CLIENT)
    return reply, authorize


def values(reply: AuthReply, name: str) -> list[ReplyValue]:
    """Every value of reply attribute `name`, in order (like pyrad's packet[name])."""
    return [value for attr, value in reply.attributes if attr == name]


def request_with_user_name(user_name: bytes) -> bytes:
    """A PAP Access-Request (right password for USERNAME) whose User-Name is `user_name`."""
    request = set_pap(new_request(), PASSWORD)
    del request["User-Name"]
    request.AddAttribute("User-Name", user_name)
    return request.RequestPacket()


# --- PAP ------------------------------------------------------------------------------------


async def test_pap_right_password_is_accepted() -> None:
    reply, authorize = await handle(set_pap(new_request(), PASSWORD))
    assert reply.accepted
    assert authorize.calls == [LoginAttempt(point=POINT, username=USERNAME, mac=MAC)]


async def test_pap_wrong_password_is_rejected_without_asking_the_policy() -> None:
    reply, authorize = await handle(set_pap(new_request(), NEAR_MISS))
    assert not reply.accepted
    assert values(reply, "Reply-Message") == [WRONG_PASSWORD]
    assert reply.attributes == (("Reply-Message", WRONG_PASSWORD),)
    assert authorize.calls == []


async def test_pap_password_of_another_key_is_rejected() -> None:
    other = grant_password("another-key-" + "y" * 40, USERNAME)
    reply, authorize = await handle(set_pap(new_request(), other))
    assert not reply.accepted
    assert authorize.calls == []


async def test_pap_password_of_another_user_is_rejected() -> None:
    other = grant_password(SECRET_KEY, "zzzzzzzzzz")
    reply, authorize = await handle(set_pap(new_request(), other))
    assert not reply.accepted
    assert authorize.calls == []


async def test_pap_with_the_wrong_radius_secret_is_rejected() -> None:
    request = new_request()
    request.secret = b"not-the-shared-secret"
    set_pap(request, PASSWORD)
    request.secret = RADIUS_SECRET
    reply, authorize = await handle(request)
    assert not reply.accepted
    assert authorize.calls == []


async def test_pap_is_decrypted_with_the_request_authenticator() -> None:
    """The same password under another Request Authenticator is still accepted."""
    reply, authorize = await handle(set_pap(new_request(authenticator=b"\xfe" * 16), PASSWORD))
    assert reply.accepted
    assert len(authorize.calls) == 1


@pytest.mark.parametrize(
    "encrypted",
    [
        pytest.param(b"0123456789", id="not-a-multiple-of-16"),
        pytest.param(b"", id="empty"),
        pytest.param(bytes(144), id="longer-than-128"),
    ],
)
async def test_pap_of_invalid_length_is_rejected(encrypted: bytes) -> None:
    request = new_request()
    request["User-Password"] = encrypted
    reply, authorize = await handle(request)
    assert not reply.accepted
    assert values(reply, "Reply-Message") == [WRONG_PASSWORD]
    assert authorize.calls == []


# --- CHAP -----------------------------------------------------------------------------------


@pytest.mark.parametrize("challenge", [None, b"0123456789abcdef\x00\xff"], ids=["auth", "attr"])
async def test_chap_right_password_is_accepted(challenge: bytes | None) -> None:
    reply, authorize = await handle(set_chap(new_request(), PASSWORD, challenge=challenge))
    assert reply.accepted
    assert [call.username for call in authorize.calls] == [USERNAME]


@pytest.mark.parametrize("challenge", [None, b"0123456789abcdef"], ids=["auth", "attr"])
async def test_chap_wrong_password_is_rejected(challenge: bytes | None) -> None:
    reply, authorize = await handle(set_chap(new_request(), NEAR_MISS, challenge=challenge))
    assert not reply.accepted
    assert values(reply, "Reply-Message") == [WRONG_PASSWORD]
    assert authorize.calls == []


async def test_chap_computed_over_another_challenge_is_rejected() -> None:
    request = new_request()
    request["CHAP-Challenge"] = b"the-real-challenge"
    request["CHAP-Password"] = chap_password(7, PASSWORD, b"some-other-challenge")
    reply, authorize = await handle(request)
    assert not reply.accepted
    assert authorize.calls == []


async def test_chap_over_the_authenticator_with_a_challenge_attribute_is_rejected() -> None:
    """With CHAP-Challenge present, a response over the Request Authenticator is wrong."""
    request = new_request()
    request["CHAP-Challenge"] = b"the-real-challenge"
    request["CHAP-Password"] = chap_password(7, PASSWORD, request.authenticator)
    reply, authorize = await handle(request)
    assert not reply.accepted
    assert authorize.calls == []


@pytest.mark.parametrize("length", [0, 11, 16, 18])
async def test_chap_password_of_wrong_length_is_rejected(length: int) -> None:
    request = new_request()
    request["CHAP-Password"] = (b"\x07" + bytes(length))[:length]
    reply, authorize = await handle(request)
    assert not reply.accepted
    assert values(reply, "Reply-Message") == [WRONG_PASSWORD]
    assert authorize.calls == []


# --- Methods and usernames ------------------------------------------------------------------


async def test_both_pap_and_chap_is_rejected() -> None:
    request = set_chap(set_pap(new_request(), PASSWORD), PASSWORD)
    reply, authorize = await handle(request)
    assert not reply.accepted
    assert values(reply, "Reply-Message") == [UNSUPPORTED_METHOD]
    assert authorize.calls == []


async def test_neither_pap_nor_chap_is_rejected() -> None:
    reply, authorize = await handle(new_request())
    assert not reply.accepted
    assert values(reply, "Reply-Message") == [UNSUPPORTED_METHOD]
    assert authorize.calls == []


async def test_missing_username_is_rejected() -> None:
    request = AuthPacket(
        id=3, secret=RADIUS_SECRET, dict=load_dictionary(), authenticator=bytes(range(16))
    )
    request.add_message_authenticator()
    set_pap(request, PASSWORD)
    reply, authorize = await handle(request)
    assert not reply.accepted
    assert values(reply, "Reply-Message") == [WRONG_PASSWORD]
    assert authorize.calls == []


async def test_empty_username_is_rejected() -> None:
    datagram = request_with_user_name(b"")
    authorize = FakeAuthorize()
    handler = AuthHandler(secret_key=SECRET_KEY, authorize=authorize)
    reply = await handler.handle(Request(wire.parse_frame(datagram, max_attributes=100)), CLIENT)
    assert not reply.accepted
    assert values(reply, "Reply-Message") == [WRONG_PASSWORD]
    assert authorize.calls == []


@pytest.mark.parametrize(
    "user_name",
    [
        pytest.param(USERNAME.encode() + b"\x00", id="trailing-nul"),
        pytest.param(b"abc\x00defghjk", id="inner-nul"),
        pytest.param(b"\xff\xfeabc", id="not-utf8"),
    ],
)
async def test_undecodable_username_is_malformed(user_name: bytes) -> None:
    datagram = request_with_user_name(user_name)
    authorize = FakeAuthorize()
    handler = AuthHandler(secret_key=SECRET_KEY, authorize=authorize)
    with pytest.raises(wire.MalformedPacket, match="attribute 1"):
        await handler.handle(Request(wire.parse_frame(datagram, max_attributes=100)), CLIENT)
    assert authorize.calls == []


async def test_calling_station_id_with_a_nul_is_malformed() -> None:
    request = set_pap(new_request(), PASSWORD)
    request["Calling-Station-Id"] = "aa-bb-cc-dd-ee-ff\x00"
    authorize = FakeAuthorize()
    with pytest.raises(wire.MalformedPacket):
        await handle(request, authorize)
    assert authorize.calls == []


async def test_mac_is_normalised_and_optional() -> None:
    request = AuthPacket(
        id=3, secret=RADIUS_SECRET, dict=load_dictionary(), authenticator=bytes(range(16))
    )
    request.add_message_authenticator()
    request.AddAttribute("User-Name", USERNAME)
    set_pap(request, PASSWORD)
    reply, authorize = await handle(request)
    assert reply.accepted
    assert authorize.calls == [LoginAttempt(point=POINT, username=USERNAME, mac=None)]


# --- The policy's answer --------------------------------------------------------------------
# How these attributes are encoded on the wire is tested in test_codec.py.


async def test_accept_copies_the_policy_reply_attributes() -> None:
    reply, _ = await handle(set_pap(new_request(), PASSWORD))
    assert reply.accepted
    assert reply.attributes == ACCEPT.reply
    assert values(reply, "Session-Timeout") == [1234]
    assert values(reply, "Idle-Timeout") == [600]
    assert values(reply, "Acct-Interim-Interval") == [300]
    assert values(reply, "Class") == ["cautiva:grant:77"]
    assert values(reply, "Mikrotik-Rate-Limit") == ["1024k/2048k"]
    assert values(reply, "Reply-Message") == []


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
    assert reply.accepted
    assert reply.attributes == decision.reply
    assert values(reply, "ChilliSpot-Bandwidth-Max-Up") == [1024]
    assert values(reply, "WISPr-Bandwidth-Max-Down") == [2_048_000]


@pytest.mark.parametrize("reason", list(RejectReason))
async def test_policy_reject_carries_its_reply_message(reason: RejectReason) -> None:
    reply, authorize = await handle(set_pap(new_request(), PASSWORD), FakeAuthorize(Reject(reason)))
    assert len(authorize.calls) == 1
    assert not reply.accepted
    assert values(reply, "Reply-Message") == [reason.value]
    assert values(reply, "Session-Timeout") == []
    assert reply.attributes == (("Reply-Message", reason.value),)


@pytest.mark.parametrize("password", [PASSWORD, NEAR_MISS], ids=["accept", "reject"])
async def test_proxy_state_is_left_to_the_encoder(password: str) -> None:
    """The handler never copies Proxy-State: ReplyEncoder echoes it (see test_codec.py)."""
    request = set_pap(new_request(), password)
    request["Proxy-State"] = [b"proxy-one", b"proxy-two"]
    reply, _ = await handle(request)
    assert values(reply, "Proxy-State") == []

"""The hot-path codec: request attributes, encoded replies, PAP and CHAP (RFC 2865, 2866, 3579)."""

from __future__ import annotations

import hashlib
import struct

import pytest
from pyrad.packet import (
    AccessAccept,
    AccessReject,
    AccountingResponse,
    AcctPacket,
    AuthPacket,
    StatusServer,
)

from cautiva.policy import RejectReason
from radius import codec, wire
from radius.codec import ReplyEncoder, ReplyValue, Request, chap_valid, pap_password
from radius.dictionary import load_dictionary

SECRET = b"codec-test-secret"
AUTHENTICATOR = bytes(range(100, 116))
PROXY_STATES = [b"proxy-one", b"proxy-two"]
ACCEPT_ATTRIBUTES: tuple[tuple[str, ReplyValue], ...] = (
    ("Session-Timeout", 1234),
    ("Idle-Timeout", 600),
    ("Acct-Interim-Interval", 300),
    ("Class", "cautiva:grant:77"),
    ("Mikrotik-Rate-Limit", "1024k/2048k"),
    ("WISPr-Bandwidth-Max-Down", 2_048_000),
    ("ChilliSpot-Bandwidth-Max-Up", 1024),
)
# Vendor-Id of each vendor attribute above, from the project's dictionary files.
MIKROTIK, WISPR, CHILLISPOT = 14988, 14122, 14559


def encoder() -> ReplyEncoder:
    return ReplyEncoder(load_dictionary())


def access_request(
    *, proxy_states: list[bytes] | None = None, identifier: int = 42
) -> tuple[AuthPacket, wire.Frame]:
    """A PAP Access-Request built with pyrad, and its frame as the server sees it."""
    request = AuthPacket(
        id=identifier, secret=SECRET, dict=load_dictionary(), authenticator=AUTHENTICATOR
    )
    request.add_message_authenticator()
    request.AddAttribute("User-Name", "abcdefghjk")
    request.AddAttribute("NAS-Identifier", "nas-codec")
    request["User-Password"] = request.PwCrypt("password1234")
    if proxy_states:
        request["Proxy-State"] = proxy_states
    return request, wire.parse_frame(request.RequestPacket(), max_attributes=100)


def accounting_request(*, proxy_states: list[bytes] | None = None) -> tuple[AcctPacket, wire.Frame]:
    request = AcctPacket(id=77, secret=SECRET, dict=load_dictionary())
    request.AddAttribute("Acct-Status-Type", "Start")
    request.AddAttribute("Acct-Session-Id", "81000001")
    request.AddAttribute("User-Name", "abcdefghjk")
    request.AddAttribute("NAS-Identifier", "nas-codec")
    if proxy_states:
        request["Proxy-State"] = proxy_states
    return request, wire.parse_frame(request.RequestPacket(), max_attributes=100)


def status_server(*, proxy_states: list[bytes] | None = None) -> tuple[AcctPacket, wire.Frame]:
    """A Status-Server (RFC 5997) as sent to the accounting port, with Message-Authenticator."""
    request = AcctPacket(
        code=StatusServer,
        id=201,
        secret=SECRET,
        dict=load_dictionary(),
        authenticator=bytes(range(50, 66)),
    )
    request.AddAttribute("NAS-Identifier", "nas-codec")
    if proxy_states:
        request["Proxy-State"] = proxy_states
    return request, wire.parse_frame(request.RequestPacket(), max_attributes=100)


def raw_attributes(packet: bytes) -> list[tuple[int, bytes]]:
    """Every attribute of an encoded packet, in order, read independently of wire.parse_frame."""
    offset, seen = wire.HEADER_LENGTH, []
    while offset < len(packet):
        attr_type, length = packet[offset], packet[offset + 1]
        assert length >= 2
        seen.append((attr_type, packet[offset + 2 : offset + length]))
        offset += length
    assert offset == len(packet)
    return seen


def check_signed_reply(raw: bytes, request: AuthPacket | AcctPacket, code: int) -> None:
    """What every reply signed with a Message-Authenticator must satisfy."""
    assert raw[0] == code
    assert raw[1] == request.id
    assert struct.unpack("!H", raw[2:4])[0] == len(raw)
    # BlastRADIUS: Message-Authenticator is the first attribute, and 18 octets long.
    assert raw[20] == wire.MESSAGE_AUTHENTICATOR == 80
    assert raw[21] == 18
    assert wire.first_attribute_type(raw) == wire.MESSAGE_AUTHENTICATOR
    assert [t for t, _ in raw_attributes(raw)].count(wire.MESSAGE_AUTHENTICATOR) == 1
    assert wire.response_authenticator_valid(raw, request.authenticator, SECRET)
    # RFC 3579 section 3.2: the reply's HMAC uses the Request Authenticator.
    assert wire.message_authenticator_valid(raw, SECRET, authenticator=request.authenticator)
    # The client's own check passes, Message-Authenticator required and Proxy-State included.
    back = type(request)(packet=raw, dict=load_dictionary(), secret=SECRET)
    assert request.VerifyReply(back, raw, enforce_ma=True)


# --- Access-Accept and Access-Reject --------------------------------------------------------


def test_access_accept_carries_standard_and_vendor_attributes() -> None:
    request, frame = access_request()
    raw = encoder().encode(
        code=wire.ACCESS_ACCEPT,
        request=frame,
        secret=SECRET,
        attributes=ACCEPT_ATTRIBUTES,
        message_authenticator=True,
    )
    check_signed_reply(raw, request, AccessAccept)
    back = AuthPacket(packet=raw, dict=load_dictionary(), secret=SECRET)
    assert back.code == AccessAccept
    assert back["Session-Timeout"] == [1234]
    assert back["Idle-Timeout"] == [600]
    assert back["Acct-Interim-Interval"] == [300]
    assert back["Class"] == [b"cautiva:grant:77"]
    assert back["Mikrotik-Rate-Limit"] == ["1024k/2048k"]
    assert back["WISPr-Bandwidth-Max-Down"] == [2_048_000]
    assert back["ChilliSpot-Bandwidth-Max-Up"] == [1024]
    assert "Reply-Message" not in back
    assert "Proxy-State" not in back


def test_access_accept_attributes_are_in_the_given_order() -> None:
    _, frame = access_request()
    raw = encoder().encode(
        code=wire.ACCESS_ACCEPT,
        request=frame,
        secret=SECRET,
        attributes=ACCEPT_ATTRIBUTES,
        message_authenticator=True,
    )
    types = [attr_type for attr_type, _ in raw_attributes(raw)]
    # Message-Authenticator, Session-Timeout, Idle-Timeout, Acct-Interim-Interval, Class,
    # then three Vendor-Specific.
    assert types == [80, 27, 28, 85, 25, 26, 26, 26]


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("Session-Timeout", 1234, bytes((27, 6)) + struct.pack("!I", 1234)),
        ("Class", "cautiva:grant:77", bytes((25, 18)) + b"cautiva:grant:77"),
        ("Class", b"\x00\xffraw", bytes((25, 7)) + b"\x00\xffraw"),
        ("Reply-Message", "Hola, señor", bytes((18, 14)) + "Hola, señor".encode()),
        (
            "Mikrotik-Rate-Limit",
            "1024k/2048k",
            bytes((26, 19)) + struct.pack("!I", MIKROTIK) + bytes((8, 13)) + b"1024k/2048k",
        ),
        (
            "WISPr-Bandwidth-Max-Down",
            2_048_000,
            bytes((26, 12)) + struct.pack("!I", WISPR) + bytes((8, 6)) + struct.pack("!I", 2048000),
        ),
        (
            "ChilliSpot-Bandwidth-Max-Up",
            1024,
            bytes((26, 12))
            + struct.pack("!I", CHILLISPOT)
            + bytes((4, 6))
            + struct.pack("!I", 1024),
        ),
        ("Acct-Terminate-Cause", "Session-Timeout", bytes((49, 6)) + struct.pack("!I", 5)),
    ],
)
def test_attribute_encoding(name: str, value: ReplyValue, expected: bytes) -> None:
    assert encoder().attribute(name, value) == expected


@pytest.mark.parametrize(("name", "value"), ACCEPT_ATTRIBUTES)
def test_attribute_encoding_matches_pyrad(name: str, value: ReplyValue) -> None:
    packet = AuthPacket(id=1, secret=SECRET, dict=load_dictionary(), authenticator=AUTHENTICATOR)
    definition = load_dictionary().attributes[name]
    # pyrad wants bytes for octets; the old reply path encoded text that way too.
    packet.AddAttribute(
        name, value.encode() if definition.type == "octets" and isinstance(value, str) else value
    )
    assert encoder().attribute(name, value) == packet.RequestPacket()[wire.HEADER_LENGTH :]


@pytest.mark.parametrize("reason", list(RejectReason))
def test_access_reject_carries_its_reply_message(reason: RejectReason) -> None:
    request, frame = access_request()
    raw = encoder().encode(
        code=wire.ACCESS_REJECT,
        request=frame,
        secret=SECRET,
        attributes=(("Reply-Message", reason.value),),
        message_authenticator=True,
    )
    check_signed_reply(raw, request, AccessReject)
    back = AuthPacket(packet=raw, dict=load_dictionary(), secret=SECRET)
    assert back.code == AccessReject
    assert back["Reply-Message"] == [reason.value]
    assert "Session-Timeout" not in back


def test_reply_with_another_secret_fails_the_clients_check() -> None:
    request, frame = access_request()
    raw = encoder().encode(
        code=wire.ACCESS_ACCEPT,
        request=frame,
        secret=b"not-the-shared-secret",
        attributes=ACCEPT_ATTRIBUTES,
        message_authenticator=True,
    )
    assert not wire.response_authenticator_valid(raw, request.authenticator, SECRET)
    assert not wire.message_authenticator_valid(raw, SECRET, authenticator=request.authenticator)
    back = AuthPacket(packet=raw, dict=load_dictionary(), secret=SECRET)
    assert not request.VerifyReply(back, raw, enforce_ma=True)


def test_reply_to_another_request_fails_the_clients_check() -> None:
    """Signatures bind the reply to the Request Authenticator it answers."""
    request, _ = access_request()
    _, other_frame = access_request(identifier=request.id)
    other_frame = wire.parse_frame(
        other_frame.packet[:4] + bytes(16) + other_frame.packet[20:], max_attributes=100
    )
    raw = encoder().encode(
        code=wire.ACCESS_ACCEPT,
        request=other_frame,
        secret=SECRET,
        attributes=ACCEPT_ATTRIBUTES,
        message_authenticator=True,
    )
    assert not wire.response_authenticator_valid(raw, request.authenticator, SECRET)
    assert not wire.message_authenticator_valid(raw, SECRET, authenticator=request.authenticator)
    back = AuthPacket(packet=raw, dict=load_dictionary(), secret=SECRET)
    assert not request.VerifyReply(back, raw, enforce_ma=True)


# --- Proxy-State ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "attributes"),
    [
        (wire.ACCESS_ACCEPT, ACCEPT_ATTRIBUTES),
        (wire.ACCESS_REJECT, (("Reply-Message", RejectReason.UNKNOWN_CREDENTIAL.value),)),
    ],
    ids=["accept", "reject"],
)
def test_reply_echoes_proxy_state_once_and_in_order(
    code: int, attributes: tuple[tuple[str, ReplyValue], ...]
) -> None:
    request, frame = access_request(proxy_states=PROXY_STATES)
    assert [v for t, v in frame.attributes if t == wire.PROXY_STATE] == PROXY_STATES
    raw = encoder().encode(
        code=code, request=frame, secret=SECRET, attributes=attributes, message_authenticator=True
    )
    check_signed_reply(raw, request, code)
    back = AuthPacket(packet=raw, dict=load_dictionary(), secret=SECRET)
    assert back["Proxy-State"] == PROXY_STATES
    # Exactly the two sent, none duplicated, in their order (RFC 2865 section 5.33).
    seen = [value for attr_type, value in raw_attributes(raw) if attr_type == wire.PROXY_STATE]
    assert seen == PROXY_STATES
    assert wire.parse_frame(raw, max_attributes=100).has_message_authenticator


def test_reply_without_proxy_state_in_the_request_has_none() -> None:
    _, frame = access_request()
    raw = encoder().encode(
        code=wire.ACCESS_ACCEPT,
        request=frame,
        secret=SECRET,
        attributes=ACCEPT_ATTRIBUTES,
        message_authenticator=True,
    )
    assert wire.PROXY_STATE not in [attr_type for attr_type, _ in raw_attributes(raw)]


def test_proxy_state_is_echoed_byte_for_byte() -> None:
    odd = [bytes(range(256))[:253], b"\x00", b"\xff" * 7]
    request, frame = access_request(proxy_states=odd)
    raw = encoder().encode(
        code=wire.ACCESS_REJECT,
        request=frame,
        secret=SECRET,
        attributes=(("Reply-Message", "no"),),
        message_authenticator=True,
    )
    check_signed_reply(raw, request, AccessReject)
    assert [v for t, v in raw_attributes(raw) if t == wire.PROXY_STATE] == odd


# --- Accounting-Response and Status-Server --------------------------------------------------


@pytest.mark.parametrize("proxy_states", [None, PROXY_STATES], ids=["plain", "proxied"])
def test_accounting_response_has_no_message_authenticator(
    proxy_states: list[bytes] | None,
) -> None:
    request, frame = accounting_request(proxy_states=proxy_states)
    raw = encoder().encode(
        code=wire.ACCOUNTING_RESPONSE,
        request=frame,
        secret=SECRET,
        attributes=(),
        message_authenticator=False,
    )
    assert raw[0] == AccountingResponse
    assert raw[1] == request.id
    assert struct.unpack("!H", raw[2:4])[0] == len(raw)
    # RFC 2866 section 4.2: no attributes but Proxy-State.
    assert raw_attributes(raw) == [(wire.PROXY_STATE, value) for value in proxy_states or []]
    assert not wire.parse_frame(raw, max_attributes=100).has_message_authenticator
    assert wire.response_authenticator_valid(raw, frame.authenticator, SECRET)
    assert not wire.response_authenticator_valid(raw, frame.authenticator, b"other-secret")
    back = AcctPacket(packet=raw, dict=load_dictionary(), secret=SECRET)
    assert request.VerifyReply(back, raw)


def test_empty_accounting_response_is_a_bare_header() -> None:
    _, frame = accounting_request()
    raw = encoder().encode(
        code=wire.ACCOUNTING_RESPONSE,
        request=frame,
        secret=SECRET,
        attributes=(),
        message_authenticator=False,
    )
    assert len(raw) == wire.HEADER_LENGTH
    expected = hashlib.md5(raw[:4] + frame.authenticator + SECRET).digest()
    assert raw[4:20] == expected


@pytest.mark.parametrize("proxy_states", [None, PROXY_STATES], ids=["plain", "proxied"])
def test_status_server_reply_on_the_accounting_port(proxy_states: list[bytes] | None) -> None:
    """RFC 5997 section 3: an Accounting-Response with a Message-Authenticator."""
    request, frame = status_server(proxy_states=proxy_states)
    assert frame.has_message_authenticator
    raw = encoder().encode(
        code=wire.ACCOUNTING_RESPONSE,
        request=frame,
        secret=SECRET,
        attributes=(("Reply-Message", "Cautiva RADIUS up"),),
        message_authenticator=True,
    )
    check_signed_reply(raw, request, AccountingResponse)
    back = AcctPacket(packet=raw, dict=load_dictionary(), secret=SECRET)
    assert back["Reply-Message"] == ["Cautiva RADIUS up"]
    assert back.get("Proxy-State", []) == (proxy_states or [])


def test_status_server_reply_on_the_auth_port() -> None:
    request = AuthPacket(
        code=StatusServer,
        id=202,
        secret=SECRET,
        dict=load_dictionary(),
        authenticator=bytes(range(70, 86)),
    )
    request.add_message_authenticator()
    request.AddAttribute("NAS-Identifier", "nas-codec")
    frame = wire.parse_frame(request.RequestPacket(), max_attributes=100)
    raw = encoder().encode(
        code=wire.ACCESS_ACCEPT,
        request=frame,
        secret=SECRET,
        attributes=(("Reply-Message", "Cautiva RADIUS up"),),
        message_authenticator=True,
    )
    check_signed_reply(raw, request, AccessAccept)


# --- Limits and the attribute cache ---------------------------------------------------------


def test_attribute_cache_returns_identical_bytes() -> None:
    enc = encoder()
    first = enc.attribute("Mikrotik-Rate-Limit", "1024k/2048k")
    again = enc.attribute("Mikrotik-Rate-Limit", "1024k/2048k")
    assert again is first
    assert again == first == encoder().attribute("Mikrotik-Rate-Limit", "1024k/2048k")
    # Other values and other names are other entries.
    assert enc.attribute("Mikrotik-Rate-Limit", "512k/1024k") != first
    assert enc.attribute("Session-Timeout", 60) != enc.attribute("Session-Timeout", 61)
    assert enc.attribute("Class", "x") == enc.attribute("Class", b"x")


def test_cached_encoder_gives_identical_replies() -> None:
    enc = encoder()
    _, frame = access_request(proxy_states=PROXY_STATES)

    def reply() -> bytes:
        return enc.encode(
            code=wire.ACCESS_ACCEPT,
            request=frame,
            secret=SECRET,
            attributes=ACCEPT_ATTRIBUTES,
            message_authenticator=True,
        )

    first = reply()
    assert reply() == first
    fresh = encoder().encode(
        code=wire.ACCESS_ACCEPT,
        request=frame,
        secret=SECRET,
        attributes=ACCEPT_ATTRIBUTES,
        message_authenticator=True,
    )
    assert fresh == first


def test_attribute_cache_stays_correct_when_full() -> None:
    enc = encoder()
    for value in range(codec.MAX_CACHED_ATTRIBUTES + 10):
        assert enc.attribute("Session-Timeout", value) == bytes((27, 6)) + struct.pack("!I", value)
    assert enc.attribute("Session-Timeout", 0) == bytes((27, 6)) + bytes(4)


def test_attribute_longer_than_253_octets_is_refused() -> None:
    enc = encoder()
    assert len(enc.attribute("Reply-Message", "x" * 253)) == 255
    with pytest.raises(ValueError, match="253"):
        enc.attribute("Reply-Message", "x" * 254)


def test_reply_longer_than_4096_octets_is_refused() -> None:
    _, frame = access_request()
    many = tuple(("Reply-Message", f"{i:03d}" + "x" * 250) for i in range(17))
    with pytest.raises(ValueError, match="4096"):
        encoder().encode(
            code=wire.ACCESS_REJECT,
            request=frame,
            secret=SECRET,
            attributes=many,
            message_authenticator=True,
        )


# --- value_name -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (struct.pack("!I", 1), "User-Request"),
        (struct.pack("!I", 4), "Idle-Timeout"),
        (struct.pack("!I", 5), "Session-Timeout"),
        (struct.pack("!I", 6), "Admin-Reset"),
        (struct.pack("!I", 99), None),
        (b"\x05", None),
        (b"", None),
    ],
)
def test_value_name_for_acct_terminate_cause(raw: bytes, expected: str | None) -> None:
    assert encoder().value_name("Acct-Terminate-Cause", raw) == expected


def test_value_name_of_an_unknown_attribute_is_none() -> None:
    assert encoder().value_name("No-Such-Attribute", struct.pack("!I", 1)) is None


# --- Request --------------------------------------------------------------------------------


def test_request_reads_attributes_as_received() -> None:
    request, frame = access_request(proxy_states=PROXY_STATES)
    parsed = Request(frame)
    assert parsed.frame is frame
    assert parsed.has(wire.USER_NAME)
    assert not parsed.has(wire.CHAP_PASSWORD)
    assert parsed.text(wire.USER_NAME) == "abcdefghjk"
    assert parsed.text(wire.CALLING_STATION_ID) is None
    assert parsed.raw(wire.USER_PASSWORD) == request["User-Password"][0]
    assert parsed.raw(wire.CHAP_PASSWORD) is None
    assert parsed.all(wire.PROXY_STATE) == PROXY_STATES
    assert parsed.raw(wire.PROXY_STATE) == PROXY_STATES[0]
    assert parsed.all(wire.CHAP_PASSWORD) == []
    assert parsed.integer(wire.ACCT_SESSION_TIME) is None
    assert parsed.ipv4(wire.FRAMED_IP_ADDRESS) is None


def test_request_integers_and_addresses() -> None:
    body = (
        bytes((wire.ACCT_SESSION_TIME, 6))
        + struct.pack("!I", 0xFFFFFFFF)
        + bytes((wire.FRAMED_IP_ADDRESS, 6, 10, 5, 50, 23))
        + bytes((wire.ACCT_INPUT_OCTETS, 5, 1, 2, 3))
        + bytes((wire.USER_NAME, 4))
        + b"a\x00"
    )
    packet = struct.pack("!BBH", wire.ACCOUNTING_REQUEST, 1, 20 + len(body)) + bytes(16) + body
    parsed = Request(wire.parse_frame(packet, max_attributes=100))
    assert parsed.integer(wire.ACCT_SESSION_TIME) == 0xFFFFFFFF
    assert parsed.ipv4(wire.FRAMED_IP_ADDRESS) == "10.5.50.23"
    with pytest.raises(wire.MalformedPacket):
        parsed.integer(wire.ACCT_INPUT_OCTETS)
    with pytest.raises(wire.MalformedPacket):
        parsed.ipv4(wire.ACCT_INPUT_OCTETS)
    with pytest.raises(wire.MalformedPacket):
        parsed.text(wire.USER_NAME)


# --- PAP and CHAP ---------------------------------------------------------------------------


@pytest.mark.parametrize("length", [1, 16, 17, 128])
def test_pap_password_round_trips_pyrads_pwcrypt(length: int) -> None:
    password = bytes(33 + (i * 7) % 90 for i in range(length))
    request = AuthPacket(id=1, secret=SECRET, dict=load_dictionary(), authenticator=AUTHENTICATOR)
    encrypted = request.PwCrypt(password)
    assert len(encrypted) == max(16, -(-length // 16) * 16)
    assert pap_password(encrypted, SECRET, AUTHENTICATOR) == password
    assert pap_password(encrypted, b"other-secret", AUTHENTICATOR) != password
    assert pap_password(encrypted, SECRET, bytes(16)) != password


@pytest.mark.parametrize("length", [0, 15, 144])
def test_pap_password_of_invalid_length_is_none(length: int) -> None:
    assert pap_password(bytes(range(length)), SECRET, AUTHENTICATOR) is None


def chap_response(ident: int, password: bytes, challenge: bytes) -> bytes:
    return bytes((ident,)) + hashlib.md5(bytes((ident,)) + password + challenge).digest()


@pytest.mark.parametrize("challenge", [AUTHENTICATOR, b"0123456789abcdef\x00\xff", b"x"])
def test_chap_valid(challenge: bytes) -> None:
    response = chap_response(7, b"password1234", challenge)
    assert chap_valid(response, b"password1234", challenge)
    assert not chap_valid(response, b"password1235", challenge)
    assert not chap_valid(response, b"password1234", challenge + b"!")
    # The CHAP Ident is part of the hash.
    assert not chap_valid(b"\x08" + response[1:], b"password1234", challenge)


@pytest.mark.parametrize("length", [0, 1, 16, 18])
def test_chap_password_of_wrong_length_is_invalid(length: int) -> None:
    response = chap_response(7, b"password1234", AUTHENTICATOR)
    candidate = (response + b"\x00")[:length]
    assert not chap_valid(candidate, b"password1234", AUTHENTICATOR)

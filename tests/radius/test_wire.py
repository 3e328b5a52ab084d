"""Raw datagram checks: framing, NAS-Identifier, and the three kinds of authenticator."""

from __future__ import annotations

import hashlib
import struct

import pytest
from pyrad.packet import AccessAccept, AcctPacket, AuthPacket

from radius import wire
from radius.dictionary import load_dictionary

SECRET = b"wire-test-secret"
MAX_ATTRIBUTES = 100


def access_request(*, nas_id: str = "nas-wire", message_authenticator: bool = True) -> bytes:
    request = AuthPacket(id=17, secret=SECRET, dict=load_dictionary())
    if message_authenticator:
        request.add_message_authenticator()
    request.AddAttribute("User-Name", "abcdefghjk")
    request.AddAttribute("NAS-Identifier", nas_id)
    request.AddAttribute("Calling-Station-Id", "AA-BB-CC-DD-EE-FF")
    request["User-Password"] = request.PwCrypt("password1234")
    return request.RequestPacket()


def accounting_request() -> bytes:
    request = AcctPacket(id=33, secret=SECRET, dict=load_dictionary())
    request.AddAttribute("Acct-Status-Type", "Start")
    request.AddAttribute("Acct-Session-Id", "81000001")
    request.AddAttribute("User-Name", "abcdefghjk")
    request.AddAttribute("NAS-Identifier", "nas-acct")
    return request.RequestPacket()


def raw_packet(
    attributes: bytes, *, code: int = wire.ACCESS_REQUEST, length: int | None = None
) -> bytes:
    if length is None:
        length = wire.HEADER_LENGTH + len(attributes)
    return struct.pack("!BBH", code, 1, length) + bytes(range(16)) + attributes


def attribute(attr_type: int, value: bytes) -> bytes:
    return bytes((attr_type, len(value) + 2)) + value


def flip(packet: bytes, offset: int) -> bytes:
    return packet[:offset] + bytes((packet[offset] ^ 0x01,)) + packet[offset + 1 :]


def parse(datagram: bytes, max_attributes: int = MAX_ATTRIBUTES) -> wire.Frame:
    return wire.parse_frame(datagram, max_attributes=max_attributes)


# --- parse_frame ----------------------------------------------------------------------------


def test_parse_frame_accepts_a_pyrad_access_request() -> None:
    datagram = access_request()
    frame = parse(datagram)
    assert frame.code == wire.ACCESS_REQUEST
    assert frame.identifier == 17
    assert frame.authenticator == datagram[4:20]
    assert frame.packet == datagram
    assert frame.nas_identifier == "nas-wire"
    assert frame.has_message_authenticator is True
    # Message-Authenticator, User-Name, NAS-Identifier, Calling-Station-Id, User-Password.
    assert frame.attribute_count == 5


def test_parse_frame_without_message_authenticator() -> None:
    frame = parse(access_request(message_authenticator=False))
    assert frame.has_message_authenticator is False
    assert frame.attribute_count == 4


def test_parse_frame_accepts_a_pyrad_accounting_request() -> None:
    frame = parse(accounting_request())
    assert frame.code == wire.ACCOUNTING_REQUEST
    assert frame.identifier == 33
    assert frame.nas_identifier == "nas-acct"


def test_parse_frame_trims_padding_beyond_length() -> None:
    datagram = access_request()
    frame = parse(datagram + b"\x00" * 7 + b"junk")
    assert frame.packet == datagram
    assert frame.attribute_count == 5


def test_parse_frame_accepts_a_bare_header() -> None:
    frame = parse(raw_packet(b""))
    assert frame.attribute_count == 0
    assert frame.nas_identifier is None
    assert frame.has_message_authenticator is False


def test_parse_frame_takes_the_first_nas_identifier() -> None:
    attrs = attribute(wire.NAS_IDENTIFIER, b"first") + attribute(wire.NAS_IDENTIFIER, b"second")
    assert parse(raw_packet(attrs)).nas_identifier == "first"


def test_parse_frame_accepts_exactly_max_attributes() -> None:
    attrs = attribute(wire.USER_NAME, b"x") * 10
    assert parse(raw_packet(attrs), max_attributes=10).attribute_count == 10


@pytest.mark.parametrize(
    "datagram",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\x01\x01\x00\x14" + bytes(15), id="19-octets"),
        pytest.param(raw_packet(b"", length=19), id="length-19"),
        pytest.param(raw_packet(b"", length=0), id="length-0"),
        pytest.param(raw_packet(bytes(4077), length=4097), id="length-4097"),
        pytest.param(raw_packet(b"", length=21), id="truncated-by-one"),
        pytest.param(raw_packet(attribute(1, b"abc"))[:-1], id="truncated-attribute"),
        pytest.param(raw_packet(b"\x01\x00abc"), id="attribute-length-0"),
        pytest.param(raw_packet(b"\x01\x01abc"), id="attribute-length-1"),
        # Read with a step of one octet, these would frame as three attributes; they must not.
        pytest.param(raw_packet(b"\x01\x01\x01\x03x"), id="attribute-length-1-then-valid"),
        pytest.param(raw_packet(b"\x01\x09abc"), id="attribute-runs-past-end"),
        pytest.param(raw_packet(attribute(1, b"abc") + b"\x01"), id="half-attribute-header"),
        pytest.param(
            raw_packet(attribute(80, bytes(16)) + attribute(80, bytes(16))),
            id="two-message-authenticators",
        ),
        pytest.param(raw_packet(attribute(80, bytes(15))), id="message-authenticator-15"),
        pytest.param(raw_packet(attribute(80, bytes(17))), id="message-authenticator-17"),
        pytest.param(raw_packet(attribute(wire.NAS_IDENTIFIER, b"\xff\xfe")), id="nas-id-not-utf8"),
    ],
)
def test_parse_frame_rejects_malformed(datagram: bytes) -> None:
    with pytest.raises(wire.MalformedPacket):
        parse(datagram)


def test_parse_frame_rejects_a_truncated_pyrad_packet() -> None:
    datagram = access_request()
    with pytest.raises(wire.MalformedPacket, match="truncated"):
        parse(datagram[:-1])


def test_parse_frame_accepts_the_maximum_length() -> None:
    # 4096 octets: header plus 15 attributes of 255 octets plus one of 251.
    attrs = attribute(wire.USER_NAME, bytes(253)) * 15 + attribute(wire.USER_NAME, bytes(249))
    datagram = raw_packet(attrs)
    assert len(datagram) == wire.MAX_PACKET_LENGTH
    assert parse(datagram).attribute_count == 16


def test_parse_frame_rejects_too_many_attributes() -> None:
    attrs = attribute(wire.USER_NAME, b"x") * 11
    with pytest.raises(wire.MalformedPacket, match="more than 10 attributes"):
        parse(raw_packet(attrs), max_attributes=10)


def test_first_attribute_type() -> None:
    assert wire.first_attribute_type(access_request()) == wire.MESSAGE_AUTHENTICATOR
    assert wire.first_attribute_type(raw_packet(b"")) is None


# --- Message-Authenticator ------------------------------------------------------------------


def test_message_authenticator_valid_for_a_pyrad_access_request() -> None:
    datagram = access_request()
    assert wire.message_authenticator_valid(datagram, SECRET)


def test_message_authenticator_fails_with_the_wrong_secret() -> None:
    assert not wire.message_authenticator_valid(access_request(), b"another-secret")


@pytest.mark.parametrize(
    "offset",
    [
        pytest.param(5, id="in-the-request-authenticator"),
        pytest.param(24, id="in-the-message-authenticator"),
        pytest.param(-1, id="in-the-last-attribute"),
    ],
)
def test_message_authenticator_fails_with_a_flipped_bit(offset: int) -> None:
    datagram = access_request()
    assert not wire.message_authenticator_valid(flip(datagram, offset % len(datagram)), SECRET)


def test_message_authenticator_absent_is_not_valid() -> None:
    assert not wire.message_authenticator_valid(access_request(message_authenticator=False), SECRET)


def test_message_authenticator_of_an_accounting_request_uses_zeros() -> None:
    request = AcctPacket(id=34, secret=SECRET, dict=load_dictionary())
    request.add_message_authenticator()
    request.AddAttribute("Acct-Status-Type", "Stop")
    request.AddAttribute("Acct-Session-Id", "81000002")
    datagram = request.RequestPacket()
    assert wire.message_authenticator_valid(datagram, SECRET, authenticator=wire.ZERO_AUTHENTICATOR)
    # Keeping the (computed) Request Authenticator instead of zeros gives another HMAC.
    assert not wire.message_authenticator_valid(datagram, SECRET)
    assert wire.request_authenticator_valid(datagram, SECRET)


# --- Request and Response Authenticators ---------------------------------------------------


def test_request_authenticator_valid_for_a_pyrad_accounting_request() -> None:
    assert wire.request_authenticator_valid(accounting_request(), SECRET)


def test_request_authenticator_fails_with_the_wrong_secret() -> None:
    assert not wire.request_authenticator_valid(accounting_request(), b"another-secret")


@pytest.mark.parametrize("offset", [1, 6, 25, -1])
def test_request_authenticator_fails_with_a_flipped_bit(offset: int) -> None:
    datagram = accounting_request()
    assert not wire.request_authenticator_valid(flip(datagram, offset % len(datagram)), SECRET)


def test_request_authenticator_of_an_access_request_is_random_not_valid() -> None:
    assert not wire.request_authenticator_valid(access_request(), SECRET)


def _reply_to(datagram: bytes) -> tuple[bytes, bytes]:
    request = AuthPacket(packet=datagram, secret=SECRET, dict=load_dictionary())
    reply = request.CreateReply()
    reply.code = AccessAccept
    reply.AddAttribute("Session-Timeout", 3600)
    return reply.ReplyPacket(), request.authenticator


def test_response_authenticator_valid() -> None:
    response, request_authenticator = _reply_to(access_request())
    assert wire.response_authenticator_valid(response, request_authenticator, SECRET)


def test_response_authenticator_matches_rfc_2865_formula() -> None:
    attrs = attribute(27, struct.pack("!I", 60))
    request_authenticator = bytes(range(100, 116))
    header = struct.pack("!BBH", wire.ACCESS_ACCEPT, 9, 20 + len(attrs))
    digest = hashlib.md5(header + request_authenticator + attrs + SECRET).digest()
    response = header + digest + attrs
    assert wire.response_authenticator_valid(response, request_authenticator, SECRET)
    assert not wire.response_authenticator_valid(response, bytes(16), SECRET)


def test_response_authenticator_fails_with_wrong_secret_request_or_bit() -> None:
    response, request_authenticator = _reply_to(access_request())
    assert not wire.response_authenticator_valid(response, request_authenticator, b"other")
    assert not wire.response_authenticator_valid(response, bytes(16), SECRET)
    assert not wire.response_authenticator_valid(
        flip(response, len(response) - 1), request_authenticator, SECRET
    )


def test_response_authenticator_of_a_short_datagram_is_not_valid() -> None:
    assert not wire.response_authenticator_valid(b"\x02\x01\x00\x14", bytes(16), SECRET)

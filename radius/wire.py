"""Raw RADIUS datagrams: header and attribute framing checks, and authenticator checks.

Everything here works on the bytes as received, before pyrad decodes anything, so that a
malformed or forged packet is dropped cheaply and the checks cover exactly what was signed.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass

ACCESS_REQUEST = 1
ACCESS_ACCEPT = 2
ACCESS_REJECT = 3
ACCOUNTING_REQUEST = 4
ACCOUNTING_RESPONSE = 5
STATUS_SERVER = 12
DISCONNECT_REQUEST = 40
DISCONNECT_ACK = 41
DISCONNECT_NAK = 42

USER_NAME = 1
USER_PASSWORD = 2
CHAP_PASSWORD = 3
FRAMED_IP_ADDRESS = 8
CALLING_STATION_ID = 31
NAS_IDENTIFIER = 32
PROXY_STATE = 33
ACCT_STATUS_TYPE = 40
ACCT_DELAY_TIME = 41
ACCT_INPUT_OCTETS = 42
ACCT_OUTPUT_OCTETS = 43
ACCT_SESSION_ID = 44
ACCT_SESSION_TIME = 46
ACCT_TERMINATE_CAUSE = 49
ACCT_INPUT_GIGAWORDS = 52
ACCT_OUTPUT_GIGAWORDS = 53
EVENT_TIMESTAMP = 55
CHAP_CHALLENGE = 60
VENDOR_SPECIFIC = 26
MESSAGE_AUTHENTICATOR = 80
HEADER_LENGTH = 20
# RFC 2865 section 3: the maximum length is 4096 octets.
MAX_PACKET_LENGTH = 4096
ZERO_AUTHENTICATOR = bytes(16)


class MalformedPacket(ValueError):
    """The datagram is not a well-formed RADIUS packet; it is dropped."""


@dataclass(frozen=True, slots=True)
class Frame:
    """A framed request: header fields, the packet cut to its Length, and what routing needs."""

    code: int
    identifier: int
    authenticator: bytes
    packet: bytes
    nas_identifier: str | None
    has_message_authenticator: bool
    attribute_count: int
    attributes: tuple[tuple[int, bytes], ...] = ()


def parse_frame(datagram: bytes, *, max_attributes: int) -> Frame:
    """Check the header and the attribute framing of `datagram`; raise MalformedPacket if bad."""
    if len(datagram) < HEADER_LENGTH:
        raise MalformedPacket(f"shorter than a header ({len(datagram)} octets)")
    code, identifier, length = struct.unpack_from("!BBH", datagram)
    if length < HEADER_LENGTH or length > MAX_PACKET_LENGTH:
        raise MalformedPacket(f"invalid Length field {length}")
    if len(datagram) < length:
        # RFC 2865 section 3: shorter than its Length field means silently discarded.
        raise MalformedPacket(f"truncated: Length {length}, received {len(datagram)}")
    packet = datagram[:length]  # octets beyond Length are padding (RFC 2865 section 3)
    nas_identifier: str | None = None
    message_authenticators = 0
    count = 0
    attributes: list[tuple[int, bytes]] = []
    offset = HEADER_LENGTH
    while offset < length:
        if offset + 2 > length:
            raise MalformedPacket("attribute header runs past the packet")
        attr_type, attr_length = packet[offset], packet[offset + 1]
        if attr_length < 2 or offset + attr_length > length:
            raise MalformedPacket(f"attribute {attr_type} has invalid length {attr_length}")
        count += 1
        if count > max_attributes:
            raise MalformedPacket(f"more than {max_attributes} attributes")
        attributes.append((attr_type, packet[offset + 2 : offset + attr_length]))
        if attr_type == MESSAGE_AUTHENTICATOR:
            if attr_length != 18:
                raise MalformedPacket("Message-Authenticator is not 16 octets")
            message_authenticators += 1
        elif attr_type == NAS_IDENTIFIER and nas_identifier is None:
            nas_identifier = text(packet[offset + 2 : offset + attr_length], "NAS-Identifier")
        offset += attr_length
    if message_authenticators > 1:
        raise MalformedPacket("more than one Message-Authenticator")
    return Frame(
        code=code,
        identifier=identifier,
        authenticator=datagram[4:20],
        packet=packet,
        nas_identifier=nas_identifier,
        has_message_authenticator=message_authenticators == 1,
        attribute_count=count,
        attributes=tuple(attributes),
    )


def text(value: bytes, name: str) -> str:
    """Decode a text attribute: UTF-8 without NUL octets."""
    try:
        decoded = value.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedPacket(f"{name} is not UTF-8") from None
    if "\x00" in decoded:
        # Valid UTF-8, but no database stores it as text, and no router means it.
        raise MalformedPacket(f"{name} contains a NUL octet")
    return decoded


def _zero_message_authenticator(packet: bytes) -> tuple[bytes, bytes] | None:
    """Return (packet with the Message-Authenticator zeroed, the value), or None if absent."""
    offset = HEADER_LENGTH
    while offset + 2 <= len(packet):
        attr_type, attr_length = packet[offset], packet[offset + 1]
        if attr_type == MESSAGE_AUTHENTICATOR and attr_length == 18:
            value = packet[offset + 2 : offset + 18]
            return packet[: offset + 2] + bytes(16) + packet[offset + 18 :], value
        offset += max(attr_length, 2)
    return None


def message_authenticator_valid(
    packet: bytes, secret: bytes, *, authenticator: bytes | None = None
) -> bool:
    """Check the HMAC-MD5 Message-Authenticator (RFC 2869 section 5.14, RFC 3579 section 3.2).

    `authenticator` replaces the Authenticator field in the computation: zeros for
    Accounting-Request and Disconnect-Request (RFC 5176 section 3.3); None keeps the field.
    """
    found = _zero_message_authenticator(packet)
    if found is None:
        return False
    zeroed, value = found
    if authenticator is not None:
        zeroed = zeroed[:4] + authenticator + zeroed[20:]
    expected = hmac.new(secret, zeroed, hashlib.md5).digest()
    return hmac.compare_digest(expected, value)


def request_authenticator_valid(packet: bytes, secret: bytes) -> bool:
    """Check an Accounting-Request's or Disconnect-Request's Request Authenticator (RFC 2866 §3)."""
    expected = hashlib.md5(packet[:4] + ZERO_AUTHENTICATOR + packet[20:] + secret).digest()
    return hmac.compare_digest(expected, packet[4:20])


def response_authenticator_valid(
    response: bytes, request_authenticator: bytes, secret: bytes
) -> bool:
    """Check a reply's Response Authenticator against the request it answers (RFC 2865 §3)."""
    if len(response) < HEADER_LENGTH:
        return False
    expected = hashlib.md5(response[:4] + request_authenticator + response[20:] + secret).digest()
    return hmac.compare_digest(expected, response[4:20])


def first_attribute_type(packet: bytes) -> int | None:
    """Return the type of the first attribute of an encoded packet, or None if it has none."""
    return packet[HEADER_LENGTH] if len(packet) > HEADER_LENGTH else None

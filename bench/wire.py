"""RADIUS wire helpers for the load generator: patch pre-encoded requests and check replies.

Kept free of pyrad so the generator process starts fast and spends little CPU per request.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass

ACCESS_REQUEST = 1
ACCESS_ACCEPT = 2
ACCESS_REJECT = 3
ACCOUNTING_REQUEST = 4
ACCOUNTING_RESPONSE = 5

USER_PASSWORD = 2
REPLY_MESSAGE = 18
CLASS = 25
ACCT_SESSION_ID = 44
MESSAGE_AUTHENTICATOR = 80

HEADER_LENGTH = 20
CYCLE_DIGITS = 8
_ZERO16 = bytes(16)


@dataclass(frozen=True, slots=True)
class Template:
    """One pre-encoded request and the offsets the generator patches before each send."""

    data: bytes
    username: str = ""
    password: bytes = b""
    password_offset: int = -1
    message_authenticator_offset: int = -1
    cycle_offset: int = -1

    @property
    def code(self) -> int:
        """The RADIUS code of the request."""
        return self.data[0]


def iter_attributes(data: bytes) -> Iterator[tuple[int, int, int]]:
    """Yield (type, value offset, value length) for each top-level attribute of a packet."""
    end = min(len(data), struct.unpack_from("!H", data, 2)[0])
    offset = HEADER_LENGTH
    for _ in range(4096):
        if offset + 2 > end:
            return
        attr_type, length = data[offset], data[offset + 1]
        if length < 2 or offset + length > end:
            raise ValueError(f"malformed attribute at offset {offset}")
        yield attr_type, offset + 2, length - 2
        offset += length


def find_attribute(data: bytes, attr_type: int) -> tuple[int, int]:
    """Return (value offset, value length) of the first attribute of `attr_type`."""
    for found, offset, length in iter_attributes(data):
        if found == attr_type:
            return offset, length
    raise KeyError(f"attribute {attr_type} not in packet")


def attribute_values(data: bytes, attr_type: int) -> list[bytes]:
    """Return the values of every attribute of `attr_type` in a packet."""
    return [bytes(data[o : o + n]) for t, o, n in iter_attributes(data) if t == attr_type]


def pad_password(password: str) -> bytes:
    """Return a User-Password's plain text padded with zeros to a multiple of 16 bytes."""
    raw = password.encode()
    return raw + bytes(-len(raw) % 16) if raw else bytes(16)


def finish_access_request(tpl: Template, ident: int, secret: bytes) -> tuple[bytes, bytes]:
    """Return a fresh Access-Request from `tpl` (new authenticator, password, signature)."""
    authenticator = os.urandom(16)
    buf = bytearray(tpl.data)
    buf[1] = ident
    buf[4:20] = authenticator
    plain = tpl.password
    last = authenticator
    offset = tpl.password_offset
    for i in range(0, len(plain), 16):
        key = hashlib.md5(secret + last).digest()
        last = (int.from_bytes(plain[i : i + 16]) ^ int.from_bytes(key)).to_bytes(16)
        buf[offset + i : offset + i + 16] = last
    ma = tpl.message_authenticator_offset
    if ma >= 0:
        buf[ma : ma + 16] = _ZERO16
        buf[ma : ma + 16] = hmac.digest(secret, buf, "md5")
    return bytes(buf), authenticator


def finish_accounting_request(
    tpl: Template, ident: int, cycle: int, secret: bytes
) -> tuple[bytes, bytes]:
    """Return a fresh Accounting-Request from `tpl` for session cycle `cycle`."""
    buf = bytearray(tpl.data)
    buf[1] = ident
    if tpl.cycle_offset >= 0:
        buf[tpl.cycle_offset : tpl.cycle_offset + CYCLE_DIGITS] = b"%08x" % (cycle & 0xFFFFFFFF)
    buf[4:20] = _ZERO16
    authenticator = hashlib.md5(buf + secret).digest()
    buf[4:20] = authenticator
    return bytes(buf), authenticator


def finish_request(tpl: Template, ident: int, cycle: int, secret: bytes) -> tuple[bytes, bytes]:
    """Return a ready-to-send datagram and its Request Authenticator."""
    if tpl.code == ACCESS_REQUEST:
        return finish_access_request(tpl, ident, secret)
    return finish_accounting_request(tpl, ident, cycle, secret)


def reply_is_valid(reply: bytes, request_authenticator: bytes, secret: bytes) -> bool:
    """Return True when the reply's Response Authenticator matches the request and secret."""
    if len(reply) < HEADER_LENGTH:
        return False
    expected = hashlib.md5(
        reply[:4] + request_authenticator + reply[HEADER_LENGTH:] + secret
    ).digest()
    return hmac.compare_digest(expected, reply[4:20])

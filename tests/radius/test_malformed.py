"""A flood of malformed datagrams against the real server (`cautiva radius`).

Thousands of truncated, oversized, garbage, bit-flipped and subtly broken packets go to both
ports. Every reply that comes back is checked against the request it answers: only correctly
signed requests may be answered, never with an Access-Accept for a damaged Access-Request, and
always correctly signed. Valid requests sent during and after the flood must still be answered.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import struct
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pyrad.dictionary import Dictionary
from pyrad.packet import AcctPacket, AuthPacket, StatusServer

from cautiva.models import NasType, Point
from cautiva.runtime import Runtime
from factories import create_point, issue
from radius.dictionary import load_dictionary
from radius_harness import RadclientResult, RadiusProcess, radclient

SEED = 0x5EED_CA07
MAC = "AA-BB-CC-5A-1E-01"
WRONG_SECRET = b"not-the-point-secret-0123456789"
WRONG_PASSWORD = "definitely-not-the-password"
VALID_EVERY = 500  # mutated datagrams between two rounds of valid requests
# Mutated datagrams between two Status-Server barriers: few enough that the server's socket
# buffer (rmem_default, ~208 KiB) never overflows even when the server is starved of CPU.
BARRIER_EVERY = 48

ACCESS_REQUEST, ACCESS_ACCEPT, ACCESS_REJECT = 1, 2, 3
ACCOUNTING_REQUEST, ACCOUNTING_RESPONSE, STATUS_SERVER = 4, 5, 12
# Codes whose Request Authenticator is an MD5 over the packet (RFC 2866, RFC 5176).
SIGNED_AUTHENTICATOR_CODES = frozenset({4, 40, 41, 42, 43, 44, 45})
USER_NAME, USER_PASSWORD, FRAMED_IP_ADDRESS, REPLY_MESSAGE = 1, 2, 8, 18
CLASS, VENDOR_SPECIFIC, SESSION_TIMEOUT, CALLING_STATION_ID, NAS_IDENTIFIER = 25, 26, 27, 31, 32
ACCT_STATUS_TYPE, ACCT_DELAY_TIME, ACCT_INPUT_OCTETS, ACCT_SESSION_ID = 40, 41, 42, 44
ACCT_SESSION_TIME, EVENT_TIMESTAMP, MESSAGE_AUTHENTICATOR = 46, 55, 80
MIKROTIK_VENDOR = 14988
INTERIM_UPDATE = 3
ZERO16 = bytes(16)

AUTH, ACCT = "auth", "acct"
# Kinds whose datagrams are correctly signed yet carry broken content: the server may answer
# them (e.g. Access-Reject, or Accounting-Response for an attribute it does not read).
MAY_BE_ANSWERED = frozenset({"vsa", "user-name-utf8", "integer-length", "nul-text"})


@dataclass(frozen=True, slots=True)
class Probe:
    """One datagram of the flood: the port it goes to and what is wrong with it."""

    port: str
    datagram: bytes
    kind: str


@dataclass
class Lab:
    """What the packet builders need: the point, its grant, the secret and a seeded RNG."""

    point: Point
    username: str
    password: str
    rng: random.Random
    dictionary: Dictionary = field(default_factory=load_dictionary)

    @property
    def secret(self) -> bytes:
        """The point's RADIUS secret."""
        return self.point.radius_secret.encode()

    def ident(self) -> int:
        """A random packet Identifier."""
        return self.rng.randrange(256)


class Listener(asyncio.DatagramProtocol):
    """A client UDP socket that keeps every reply, or hands it to whoever waits for it."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.replies: list[tuple[tuple[str, int], bytes]] = []
        self.waiting: dict[tuple[int, int], asyncio.Future[bytes]] = {}
        self.sent = 0  # non-empty datagrams: the server never sees empty ones

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport to send with."""
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        """Resolve the waiting exchange this reply answers, or keep the reply."""
        future = self.waiting.get((addr[1], data[1] if len(data) > 1 else -1))
        if future is not None and not future.done():
            future.set_result(data)
        else:
            self.replies.append((addr, data))

    def send(self, datagram: bytes, address: tuple[str, int]) -> None:
        """Send one datagram."""
        assert self.transport is not None
        self.transport.sendto(datagram, address)
        self.sent += bool(datagram)


# --- Encoding helpers -------------------------------------------------------------------------


def attribute(kind: int, value: bytes) -> bytes:
    """Encode one attribute (value up to 253 octets)."""
    return bytes([kind, len(value) + 2]) + value


def parse_attributes(packet: bytes) -> list[tuple[int, bytes]] | None:
    """Split the attributes of a packet cut to its Length, or None if the framing is broken."""
    found: list[tuple[int, bytes]] = []
    offset = 20
    while offset < len(packet):
        if offset + 2 > len(packet):
            return None
        kind, length = packet[offset], packet[offset + 1]
        if length < 2 or offset + length > len(packet):
            return None
        found.append((kind, packet[offset + 2 : offset + length]))
        offset += length
    return found


def pap(secret: bytes, authenticator: bytes, password: str) -> bytes:
    """Encrypt a User-Password (RFC 2865 section 5.2) with pyrad."""
    return bytes(AuthPacket(secret=secret, authenticator=authenticator).PwCrypt(password))


def sign_raw(code: int, identifier: int, body: bytes, secret: bytes, authenticator: bytes) -> bytes:
    """Sign a Message-Authenticator (first) and `body`, however broken, as a client would."""
    attributes = bytes([MESSAGE_AUTHENTICATOR, 18]) + ZERO16 + body
    header = struct.pack("!BBH", code, identifier, 20 + len(attributes))
    if code in SIGNED_AUTHENTICATOR_CODES:
        mac = hmac.new(secret, header + ZERO16 + attributes, hashlib.md5).digest()
        attributes = attributes[:2] + mac + attributes[18:]
        authenticator = hashlib.md5(header + ZERO16 + attributes + secret).digest()
        return header + authenticator + attributes
    mac = hmac.new(secret, header + authenticator + attributes, hashlib.md5).digest()
    return header + authenticator + attributes[:2] + mac + attributes[18:]


def with_length(datagram: bytes, length: int) -> bytes:
    """Return `datagram` with its Length field overwritten."""
    return datagram[:2] + struct.pack("!H", length) + datagram[4:]


def flip_bits(datagram: bytes, start: int, end: int, rng: random.Random, count: int) -> bytes:
    """Flip `count` distinct bits in datagram[start:end]."""
    data = bytearray(datagram)
    for bit in rng.sample(range(start * 8, end * 8), count):
        data[bit // 8] ^= 1 << (bit % 8)
    return bytes(data)


# --- Valid requests, built with pyrad ----------------------------------------------------------


def access_request(
    lab: Lab,
    *,
    identifier: int | None = None,
    secret: bytes | None = None,
    nas_id: str | None = None,
) -> bytes:
    """A PAP Access-Request for the grant, with Message-Authenticator (first) and NAS info."""
    key = secret or lab.secret
    packet = AuthPacket(
        dict=lab.dictionary,
        secret=key,
        id=lab.ident() if identifier is None else identifier,
        authenticator=lab.rng.randbytes(16),
    )
    packet.add_message_authenticator()
    packet.AddAttribute("User-Name", lab.username)
    packet.AddAttribute("User-Password", packet.PwCrypt(lab.password))
    packet.AddAttribute("NAS-Identifier", nas_id or lab.point.nas_id)
    packet.AddAttribute("Calling-Station-Id", MAC)
    packet.AddAttribute("NAS-IP-Address", "127.0.0.1")
    return bytes(packet.RequestPacket())


def accounting_request(
    lab: Lab,
    *,
    identifier: int | None = None,
    session_id: str | None = None,
    session_time: int = 5,
    secret: bytes | None = None,
    nas_id: str | None = None,
) -> bytes:
    """An Interim-Update Accounting-Request for the grant's session `session_id` (or a new one)."""
    packet = AcctPacket(
        dict=lab.dictionary,
        secret=secret or lab.secret,
        id=lab.ident() if identifier is None else identifier,
    )
    packet.AddAttribute("Acct-Status-Type", "Interim-Update")
    packet.AddAttribute("User-Name", lab.username)
    packet.AddAttribute("Acct-Session-Id", session_id or f"flood-{lab.rng.randrange(1 << 32):x}")
    packet.AddAttribute("NAS-Identifier", nas_id or lab.point.nas_id)
    packet.AddAttribute("Calling-Station-Id", MAC)
    packet.AddAttribute("Framed-IP-Address", "10.5.50.9")
    packet.AddAttribute("Acct-Session-Time", session_time)
    packet.AddAttribute("Acct-Input-Octets", 1000 + session_time)
    return bytes(packet.RequestPacket())


def status_server(
    lab: Lab,
    *,
    identifier: int | None = None,
    secret: bytes | None = None,
    nas_id: str | None = None,
) -> bytes:
    """A Status-Server (RFC 5997) with Message-Authenticator, for either port."""
    packet = AcctPacket(
        code=StatusServer,
        dict=lab.dictionary,
        secret=secret or lab.secret,
        id=lab.ident() if identifier is None else identifier,
        authenticator=lab.rng.randbytes(16),
    )
    packet.AddAttribute("NAS-Identifier", nas_id or lab.point.nas_id)
    return bytes(packet.RequestPacket())


def random_base(
    lab: Lab, *, secret: bytes | None = None, nas_id: str | None = None
) -> tuple[str, bytes]:
    """A valid request of a random kind (never sent as is), with the port it belongs to."""
    choice = lab.rng.randrange(4)
    if choice < 2:
        return AUTH, access_request(lab, secret=secret, nas_id=nas_id)
    if choice == 2:
        return ACCT, accounting_request(lab, secret=secret, nas_id=nas_id)
    return lab.rng.choice((AUTH, ACCT)), status_server(lab, secret=secret, nas_id=nas_id)


def raw_access(
    lab: Lab,
    body: bytes,
    *,
    code: int = ACCESS_REQUEST,
    nas: bytes | None = None,
    user: bytes | None = None,
    password: str = WRONG_PASSWORD,
) -> bytes:
    """A signed request: NAS-Identifier (the point's unless `nas`), PAP login, then `body`."""
    authenticator = lab.rng.randbytes(16)
    head = (
        attribute(NAS_IDENTIFIER, lab.point.nas_id.encode() if nas is None else nas)
        + attribute(USER_NAME, lab.username.encode() if user is None else user)
        + attribute(USER_PASSWORD, pap(lab.secret, authenticator, password))
    )
    return sign_raw(code, lab.ident(), head + body, lab.secret, authenticator)


def raw_accounting(
    lab: Lab,
    body: bytes,
    *,
    nas: bytes | None = None,
    user: bytes = b"flood-nobody",
    status: bytes = struct.pack("!I", INTERIM_UPDATE),
    session: bytes | None = None,
) -> bytes:
    """A signed Accounting-Request for a throwaway session (unless `session`), then `body`."""
    head = (
        attribute(NAS_IDENTIFIER, lab.point.nas_id.encode() if nas is None else nas)
        + attribute(ACCT_STATUS_TYPE, status)
        + attribute(USER_NAME, user)
        + attribute(ACCT_SESSION_ID, session or f"junk-{lab.rng.randrange(1 << 32):08x}".encode())
    )
    return sign_raw(ACCOUNTING_REQUEST, lab.ident(), head + body, lab.secret, ZERO16)


def raw_status(lab: Lab, body: bytes, *, nas: bytes | None = None) -> bytes:
    """A signed Status-Server with NAS-Identifier (the point's unless `nas`), then `body`."""
    head = attribute(NAS_IDENTIFIER, lab.point.nas_id.encode() if nas is None else nas)
    return sign_raw(STATUS_SERVER, lab.ident(), head + body, lab.secret, lab.rng.randbytes(16))


def signed_variants(lab: Lab, body: bytes, kind: str, *, nas: bytes | None = None) -> list[Probe]:
    """`body` after a signed Access-Request, Accounting-Request and Status-Server."""
    return [
        Probe(AUTH, raw_access(lab, body, nas=nas), kind),
        Probe(ACCT, raw_accounting(lab, body, nas=nas), kind),
        Probe(lab.rng.choice((AUTH, ACCT)), raw_status(lab, body, nas=nas), kind),
    ]


def appended(datagram: bytes, extra: bytes) -> bytes:
    """`extra` appended to a request, its Length field following (the signature does not)."""
    grown = datagram + extra
    return with_length(grown, min(len(grown), 65535))


def attribute_offsets(packet: bytes) -> list[int]:
    """Offsets of the attributes of a well-framed packet."""
    offsets, offset = [], 20
    while offset < len(packet):
        offsets.append(offset)
        offset += packet[offset + 1]
    return offsets


# --- Mutations ---------------------------------------------------------------------------------


def truncations(lab: Lab) -> list[Probe]:
    """Valid requests cut at every length, and random cuts of random requests."""
    probes: list[Probe] = []
    bases = [
        (AUTH, access_request(lab)),
        (ACCT, accounting_request(lab)),
        (AUTH, status_server(lab)),
        (ACCT, status_server(lab)),
    ]
    for port, datagram in bases:
        probes += [Probe(port, datagram[:cut], "truncated") for cut in range(len(datagram))]
    for _ in range(150):
        port, datagram = random_base(lab)
        probes.append(Probe(port, datagram[: lab.rng.randrange(len(datagram))], "truncated"))
    return probes


def length_field_lies(lab: Lab) -> list[Probe]:
    """Valid requests whose Length field is larger, or smaller, than the datagram."""
    probes = []
    for index in range(300):
        port, datagram = random_base(lab)
        if index % 2:
            length = lab.rng.choice(
                (len(datagram) + 1, lab.rng.randint(len(datagram) + 1, 4096), 4097, 65535)
            )
        else:
            length = lab.rng.randrange(len(datagram))
        probes.append(Probe(port, with_length(datagram, length), "length-field"))
    return probes


def filler(lab: Lab, size: int) -> bytes:
    """Well-framed Class attributes of about `size` octets in total."""
    chunks = []
    while size >= 3:
        value = lab.rng.randbytes(min(253, size - 2))
        chunks.append(attribute(CLASS, value))
        size -= len(value) + 2
    return b"".join(chunks)


def oversized(lab: Lab) -> list[Probe]:
    """Signed, well-framed requests longer than 4096 octets (up to ~64 KiB), and big garbage."""
    probes = []
    for size in (4097, 4100, 5000, 8192, 16384, 40000, 65000):
        for small in signed_variants(lab, b"", "oversized"):
            body = filler(lab, size - len(small.datagram))
            if small.datagram[0] == ACCESS_REQUEST:
                datagram = raw_access(lab, body)
            elif small.datagram[0] == ACCOUNTING_REQUEST:
                datagram = raw_accounting(lab, body)
            else:
                datagram = raw_status(lab, body)
            probes.append(Probe(small.port, datagram, "oversized"))
    for size in (4097, 20000, 65000, 65507):
        probes += [Probe(port, lab.rng.randbytes(size), "oversized") for port in (AUTH, ACCT)]
    return probes


def garbage(lab: Lab) -> list[Probe]:
    """Random bytes; random bytes behind a plausible header; randomly typed, well-framed TLVs."""
    rng = lab.rng
    probes = []
    for _ in range(500):
        size = rng.choice((rng.randrange(20), rng.randrange(64), rng.randrange(1500)))
        probes.append(Probe(rng.choice((AUTH, ACCT)), rng.randbytes(size), "garbage"))
    for _ in range(250):
        code = rng.choice((ACCESS_REQUEST, ACCOUNTING_REQUEST, STATUS_SERVER))
        body = rng.randbytes(rng.randrange(200))
        header = struct.pack("!BBH", code, lab.ident(), 20 + len(body))
        port = AUTH if code == ACCESS_REQUEST else ACCT
        probes.append(Probe(port, header + rng.randbytes(16) + body, "garbage"))
    for index in range(250):
        code = rng.choice((ACCESS_REQUEST, ACCOUNTING_REQUEST, STATUS_SERVER))
        body = b"".join(
            attribute(rng.randrange(256), rng.randbytes(rng.randrange(24)))
            for _ in range(rng.randrange(1, 12))
        )
        if index % 2:  # our NAS-Identifier, so the forgery reaches the signature checks
            body = attribute(NAS_IDENTIFIER, lab.point.nas_id.encode()) + body
        header = struct.pack("!BBH", code, lab.ident(), 20 + len(body))
        port = AUTH if code == ACCESS_REQUEST else ACCT
        probes.append(Probe(port, header + rng.randbytes(16) + body, "garbage"))
    return probes


def bit_flips(lab: Lab) -> list[Probe]:
    """Valid requests with one to three bits flipped in the header, authenticator or attributes."""
    probes = []
    for index in range(1200):
        port, datagram = random_base(lab)
        start, end = ((0, 4), (4, 20), (20, len(datagram)))[index % 3]
        count = lab.rng.choice((1, 1, 2, 3))
        probes.append(Probe(port, flip_bits(datagram, start, end, lab.rng, count), "bit-flip"))
    return probes


def broken_attribute(lab: Lab, variant: int) -> bytes:
    """An attribute header with length 0 or 1, one running past the end, or a lone type octet."""
    kind = lab.rng.choice((USER_NAME, CLASS, REPLY_MESSAGE, NAS_IDENTIFIER, 200))
    if variant == 0:
        return bytes([kind, 0]) + lab.rng.randbytes(lab.rng.randrange(4))
    if variant == 1:
        return bytes([kind, 1]) + lab.rng.randbytes(lab.rng.randrange(4))
    if variant == 2:
        return bytes([kind, 255]) + lab.rng.randbytes(lab.rng.randrange(253))
    return bytes([kind])


def bad_attribute_lengths(lab: Lab) -> list[Probe]:
    """Attribute lengths of 0, 1, or past the end, appended or written over a real attribute."""
    probes = []
    for index in range(240):
        variant = index % 4
        port, datagram = random_base(lab)
        match index % 3:
            case 0:
                broken = appended(datagram, broken_attribute(lab, variant))
            case 1:
                offset = lab.rng.choice(attribute_offsets(datagram))
                length = (0, 1, 255, datagram[offset + 1] + 1)[variant]
                broken = datagram[: offset + 1] + bytes([length]) + datagram[offset + 2 :]
            case _:
                body = broken_attribute(lab, variant)
                if lab.rng.randrange(2):  # the broken one first, then a good one
                    body += attribute(CLASS, b"after")
                broken = lab.rng.choice(signed_variants(lab, body, "")).datagram
                port = AUTH if broken[0] == ACCESS_REQUEST else ACCT
        probes.append(Probe(port, broken, "attribute-length"))
    return probes


def attribute_floods(lab: Lab) -> list[Probe]:
    """Signed requests carrying hundreds or thousands of tiny attributes (within 4096 octets)."""
    probes = []
    for count in (101, 150, 255, 500, 1000, 1300, 1990):
        for tiny in (bytes([CLASS, 2]), attribute(REPLY_MESSAGE, b"x")):
            for probe in signed_variants(lab, tiny * count, "attribute-flood"):
                if len(probe.datagram) <= 4096:
                    probes.append(probe)
    return probes


def message_authenticator_abuse(lab: Lab) -> list[Probe]:
    """Two Message-Authenticators, or one of the wrong length."""
    rng = lab.rng
    probes = []
    for index in range(160):
        port, datagram = random_base(lab)
        match index % 4:
            case 0:  # a second, zeroed one, signed over by the first
                probes += signed_variants(lab, attribute(MESSAGE_AUTHENTICATOR, ZERO16), "ma")[:1]
                continue
            case 1:  # the valid one copied to the end
                if datagram[0] == ACCOUNTING_REQUEST:
                    datagram = raw_accounting(lab, b"")
                broken = appended(datagram, datagram[20:38])
            case 2:  # the only one, with a wrong length
                length = rng.choice([n for n in range(0, 41) if n != 16])
                value = (datagram[22:38] + rng.randbytes(24))[:length]
                broken = appended(
                    datagram[:20], attribute(MESSAGE_AUTHENTICATOR, value) + datagram[38:]
                )
                if datagram[0] == ACCOUNTING_REQUEST:
                    broken = appended(datagram, attribute(MESSAGE_AUTHENTICATOR, value))
            case _:  # signed, with a second one of a wrong length after the attributes
                length = rng.choice((0, 1, 8, 15, 17, 32))
                body = attribute(MESSAGE_AUTHENTICATOR, rng.randbytes(length))
                probe = rng.choice(signed_variants(lab, body, "ma"))
                port, broken = probe.port, probe.datagram
        probes.append(Probe(port, broken, "ma"))
    return probes


def unknown_codes(lab: Lab) -> list[Probe]:
    """Signed packets with codes no port serves, and requests sent to the wrong port."""
    probes = []
    codes = [0, 2, 3, 5, 6, 7, 11, 13, 40, 41, 42, 43, 44, 45, 50, 254, 255]
    codes += [lab.rng.choice([c for c in range(256) if c not in (1, 4, 12)]) for _ in range(20)]
    for code in codes:
        for port in (AUTH, ACCT):
            probes.append(
                Probe(port, raw_access(lab, b"", code=code, password=lab.password), "code")
            )
    for _ in range(15):
        probes.append(Probe(ACCT, access_request(lab), "code"))
        probes.append(Probe(AUTH, accounting_request(lab, session_id="wrong-port"), "code"))
    return probes


def wrong_secret(lab: Lab) -> list[Probe]:
    """Well-framed requests signed with a secret that is not the point's."""
    probes = []
    for _ in range(150):
        port, datagram = random_base(lab, secret=WRONG_SECRET)
        probes.append(Probe(port, datagram, "wrong-secret"))
    return probes


def unknown_clients(lab: Lab, other: Point) -> list[Probe]:
    """Signed requests naming unknown NAS-Identifiers, another point's, or none at all."""
    probes = []
    for _ in range(150):
        port, datagram = random_base(lab, nas_id=f"nas-unknown-{lab.rng.randrange(1 << 40):x}")
        probes.append(Probe(port, datagram, "unknown-nas"))
    for _ in range(30):
        port, datagram = random_base(lab, nas_id=other.nas_id)
        probes.append(Probe(port, datagram, "unknown-nas"))
    for _ in range(10):  # no NAS-Identifier: looked up by source address, which no point has
        authenticator = lab.rng.randbytes(16)
        body = attribute(USER_NAME, lab.username.encode()) + attribute(
            USER_PASSWORD, pap(lab.secret, authenticator, lab.password)
        )
        datagram = sign_raw(ACCESS_REQUEST, lab.ident(), body, lab.secret, authenticator)
        probes.append(Probe(AUTH, datagram, "unknown-nas"))
        status = sign_raw(STATUS_SERVER, lab.ident(), b"", lab.secret, lab.rng.randbytes(16))
        probes.append(Probe(lab.rng.choice((AUTH, ACCT)), status, "unknown-nas"))
    return probes


def broken_vendor_attributes(lab: Lab) -> list[Probe]:
    """Vendor-Specific attributes whose inner lengths do not add up, signed and not."""
    vendor = struct.pack("!I", MIKROTIK_VENDOR)
    values = [
        vendor + bytes([1, 0]) + b"abcd",  # inner length 0
        vendor + bytes([1, 1]) + b"abcd",  # inner length 1
        vendor + bytes([8, 40]) + b"1k/1k",  # inner length past the end
        vendor + bytes([8, 7]) + b"1k/1k" + bytes([8]),  # a lone trailing octet
        vendor + bytes([8, 3]) + b"x" + bytes([9, 0]),  # a good one, then length 0
        vendor,  # no inner attribute at all
        vendor[:2],  # not even a vendor id
        b"",
        struct.pack("!I", 0xFFFFFFFF) + bytes([1, 200]),  # unknown vendor, broken
        vendor + bytes([26, 8]) + vendor + bytes([1, 9]),  # VSA nested in a VSA
    ]
    probes = []
    for value in values:
        for _ in range(4):
            probes += signed_variants(lab, attribute(VENDOR_SPECIFIC, value), "vsa")
            port, datagram = random_base(lab)
            probes.append(Probe(port, appended(datagram, attribute(VENDOR_SPECIFIC, value)), "vsa"))
    return probes


BAD_UTF8 = [
    b"\xff",
    b"\xc3\x28",
    b"\xe2\x82",
    b"\xed\xa0\x80",  # an encoded surrogate
    b"\xf8\x88\x80\x80\x80",
    b"\xc0\xaf",  # overlong "/"
    b"\x80abc",
    b"\xf4\x90\x80\x80",  # past U+10FFFF
]


def invalid_utf8(lab: Lab) -> list[Probe]:
    """Invalid UTF-8 in NAS-Identifier (never answerable) and in User-Name (signed)."""
    probes = []
    nas_id = lab.point.nas_id.encode()
    for bad in BAD_UTF8:
        for nas in (nas_id + bad, bad + nas_id, bad):
            probes += signed_variants(lab, b"", "nas-identifier-utf8", nas=nas)
        for user in (lab.username.encode() + bad, bad):
            probes.append(Probe(AUTH, raw_access(lab, b"", user=user), "user-name-utf8"))
            probes.append(Probe(ACCT, raw_accounting(lab, b"", user=user), "user-name-utf8"))
            port, datagram = random_base(lab)
            probes.append(
                Probe(port, appended(datagram, attribute(USER_NAME, user)), "user-name-utf8")
            )
        calling = attribute(CALLING_STATION_ID, b"AA-BB" + bad)
        probes += signed_variants(lab, calling, "user-name-utf8")
    return probes


def integer_lengths(lab: Lab) -> list[Probe]:
    """Integer, date and address attributes whose values are not 4 octets, signed and not."""
    probes = []
    for kind in (
        ACCT_STATUS_TYPE,
        SESSION_TIMEOUT,
        ACCT_SESSION_TIME,
        EVENT_TIMESTAMP,
        FRAMED_IP_ADDRESS,
        ACCT_INPUT_OCTETS,
        ACCT_DELAY_TIME,
    ):
        for size in (0, 1, 2, 3, 5, 6, 8, 16):
            value = lab.rng.randbytes(size)
            if kind == ACCT_STATUS_TYPE:
                probes.append(Probe(ACCT, raw_accounting(lab, b"", status=value), "integer-length"))
            else:
                probes += signed_variants(lab, attribute(kind, value), "integer-length")
            port, datagram = random_base(lab)
            probes.append(Probe(port, appended(datagram, attribute(kind, value)), "integer-length"))
    return probes


def all_probes(lab: Lab, other: Point) -> list[Probe]:
    """Every mutated datagram of the flood, in a seeded random order."""
    makers: list[Callable[[Lab], list[Probe]]] = [
        truncations,
        length_field_lies,
        oversized,
        garbage,
        bit_flips,
        bad_attribute_lengths,
        attribute_floods,
        message_authenticator_abuse,
        unknown_codes,
        wrong_secret,
        broken_vendor_attributes,
        invalid_utf8,
        integer_lengths,
    ]
    probes = [probe for make in makers for probe in make(lab)] + unknown_clients(lab, other)
    lab.rng.shuffle(probes)
    return probes


# --- Judging what comes back -------------------------------------------------------------------


def message_authenticator_valid(packet: bytes, secret: bytes, authenticator: bytes) -> bool:
    """Check the first Message-Authenticator with `authenticator` in the header (RFC 3579 §3.2)."""
    offset = 20
    while offset + 18 <= len(packet) and packet[offset + 1] >= 2:
        if packet[offset] == MESSAGE_AUTHENTICATOR and packet[offset + 1] == 18:
            zeroed = packet[:4] + authenticator + packet[20 : offset + 2] + ZERO16
            zeroed += packet[offset + 18 :]
            expected = hmac.new(secret, zeroed, hashlib.md5).digest()
            return hmac.compare_digest(expected, packet[offset + 2 : offset + 18])
        offset += packet[offset + 1]
    return False


def well_framed(datagram: bytes) -> bytes | None:
    """The packet cut to its Length if RFC 2865/3579 framing holds, else None (malformed)."""
    if len(datagram) < 20:
        return None
    length = struct.unpack_from("!H", datagram, 2)[0]
    if not 20 <= length <= 4096 or len(datagram) < length:
        return None
    packet = datagram[:length]
    attributes = parse_attributes(packet)
    if attributes is None:
        return None
    macs = [value for kind, value in attributes if kind == MESSAGE_AUTHENTICATOR]
    return None if len(macs) > 1 or any(len(value) != 16 for value in macs) else packet


def correctly_signed(datagram: bytes, port: str, lab: Lab) -> bool:
    """Whether `datagram` is a framed, point-signed request `port` serves: all it may answer."""
    packet = well_framed(datagram)
    if packet is None:
        return False
    code = packet[0]
    attributes = parse_attributes(packet) or []
    macs = [value for kind, value in attributes if kind == MESSAGE_AUTHENTICATOR]
    nas = next((value for kind, value in attributes if kind == NAS_IDENTIFIER), None)
    if nas != lab.point.nas_id.encode():
        return False
    if code == ACCOUNTING_REQUEST and port == ACCT:
        expected = hashlib.md5(packet[:4] + ZERO16 + packet[20:] + lab.secret).digest()
        if not hmac.compare_digest(expected, packet[4:20]):
            return False
        return not macs or message_authenticator_valid(packet, lab.secret, ZERO16)
    if (code == ACCESS_REQUEST and port == AUTH) or code == STATUS_SERVER:
        return bool(macs) and message_authenticator_valid(packet, lab.secret, packet[4:20])
    return False


def reply_problems(reply: bytes, request: bytes, port: str, secret: bytes) -> list[str]:
    """What is wrong with `reply` as the answer to `request` (empty when it is right)."""
    if len(reply) < 20:
        return [f"reply of {len(reply)} octets"]
    problems = []
    code, identifier, length = struct.unpack_from("!BBH", reply)
    if length != len(reply):
        problems.append(f"Length {length} but {len(reply)} octets")
    if identifier != request[1]:
        problems.append(f"Identifier {identifier}, request had {request[1]}")
    expected = hashlib.md5(reply[:4] + request[4:20] + reply[20:] + secret).digest()
    if not hmac.compare_digest(expected, reply[4:20]):
        problems.append("bad Response Authenticator")
    attributes = parse_attributes(reply[:length])
    if attributes is None:
        return [*problems, "broken attribute framing"]
    allowed = {
        ACCESS_REQUEST: {ACCESS_ACCEPT, ACCESS_REJECT},
        ACCOUNTING_REQUEST: {ACCOUNTING_RESPONSE},
        STATUS_SERVER: {ACCESS_ACCEPT if port == AUTH else ACCOUNTING_RESPONSE},
    }.get(request[0], set())
    if code not in allowed:
        problems.append(f"code {code} answers code {request[0]} on the {port} port")
    if code in (ACCESS_ACCEPT, ACCESS_REJECT) or request[0] == STATUS_SERVER:
        if not attributes or attributes[0][0] != MESSAGE_AUTHENTICATOR:
            problems.append("Message-Authenticator is not the first attribute")
        elif not message_authenticator_valid(reply, secret, request[4:20]):
            problems.append("bad Message-Authenticator")
    return problems


def judge(reply: bytes, candidates: list[Probe], lab: Lab) -> tuple[Probe | None, list[str]]:
    """Find the probe `reply` answers (by its Response Authenticator) and what is wrong."""
    for probe in candidates:
        expected = hashlib.md5(reply[:4] + probe.datagram[4:20] + reply[20:] + lab.secret)
        if len(reply) >= 20 and hmac.compare_digest(expected.digest(), reply[4:20]):
            problems = reply_problems(reply, probe.datagram, probe.port, lab.secret)
            if not correctly_signed(probe.datagram, probe.port, lab):
                problems.append("answers a datagram that is not correctly signed")
            if probe.kind not in MAY_BE_ANSWERED:
                problems.append("answers a datagram the server must drop")
            if probe.datagram[0] == ACCESS_REQUEST and reply[0] == ACCESS_ACCEPT:
                problems.append("Access-Accept for a mutated Access-Request")
            return probe, problems
    return None, [f"code {reply[0] if reply else '?'} reply matches no request sent"]


def session_timeout(reply: bytes) -> int | None:
    """The Session-Timeout of a reply, or None."""
    for kind, value in parse_attributes(reply) or []:
        if kind == SESSION_TIMEOUT and len(value) == 4:
            return int(struct.unpack("!I", value)[0])
    return None


# --- Talking to the server ---------------------------------------------------------------------


async def open_socket() -> Listener:
    """A client UDP socket on 127.0.0.1."""
    loop = asyncio.get_running_loop()
    _, listener = await loop.create_datagram_endpoint(Listener, local_addr=("127.0.0.1", 0))
    return listener


def close(listener: Listener) -> None:
    """Close a client socket."""
    if listener.transport is not None:
        listener.transport.close()


async def exchange(
    client: Listener, address: tuple[str, int], datagram: bytes, *, attempts: int = 3
) -> bytes | None:
    """Send a request and wait for its reply, retransmitting like a router would."""
    key = (address[1], datagram[1])
    future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
    client.waiting[key] = future
    try:
        for _ in range(attempts):
            client.send(datagram, address)
            try:
                return await asyncio.wait_for(asyncio.shield(future), 2.0)
            except TimeoutError:
                continue
        return None
    finally:
        del client.waiting[key]


@dataclass
class ValidTraffic:
    """The valid requests sent during and after the flood, and what was wrong with answers."""

    lab: Lab
    client: Listener
    server: RadiusProcess
    rounds: int = 0
    access_requests: int = 0
    barriers: int = 0
    identifier: int = 0
    problems: list[str] = field(default_factory=list)

    def next_id(self) -> int:
        """Identifiers in turn, so no two outstanding requests share one."""
        self.identifier = (self.identifier + 1) % 256
        return self.identifier

    async def check(self, label: str, port: str, request: bytes) -> bytes | None:
        """Send a valid request, wait for its answer and note anything wrong with it."""
        reply = await exchange(self.client, getattr(self.server, port), request)
        if reply is None:
            self.problems.append(f"{label}: no answer to a valid request (code {request[0]})")
        else:
            problems = reply_problems(reply, request, port, self.lab.secret)
            self.problems += [f"{label}: {problem}" for problem in problems]
        return reply

    async def barrier(self, ports: tuple[str, ...] = (AUTH, ACCT)) -> None:
        """Status-Server on `ports`: once answered, the server has read all sent before it."""
        self.barriers += 1
        await asyncio.gather(
            *(
                self.check(f"barrier {self.barriers} on {port}", port, self._status())
                for port in ports
            )
        )

    def _status(self) -> bytes:
        """A valid Status-Server with the next Identifier."""
        return status_server(self.lab, identifier=self.next_id())

    async def round(self) -> None:
        """One Access-Request (some padded past Length), Accounting-Request and Status-Server."""
        self.rounds += 1
        lab, number = self.lab, self.rounds
        access = access_request(lab, identifier=self.next_id())
        if number % 2:  # RFC 2865 section 3: octets past Length are padding, ignored
            access += lab.rng.randbytes(3000 if number % 4 == 1 else lab.rng.randint(1, 64))
        accounting = accounting_request(
            lab, identifier=self.next_id(), session_id="flood-valid", session_time=number
        )
        label = f"round {number}"
        self.access_requests += 1
        accept, _, _ = await asyncio.gather(
            self.check(f"{label} Access-Request", AUTH, access),
            self.check(f"{label} Accounting-Request", ACCT, accounting),
            self.check(f"{label} Status-Server", AUTH if number % 2 else ACCT, self._status()),
        )
        timeout = session_timeout(accept) if accept else None
        if accept and (accept[0] != ACCESS_ACCEPT or timeout is None or not 0 < timeout <= 3600):
            self.problems.append(f"{label}: code {accept[0]}, Session-Timeout {timeout}")


def read_stats(server: RadiusProcess) -> dict[str, int]:
    """The counters the server writes every second."""
    path = Path(server.env["CAUTIVA_DATA_DIR"]) / "radius-stats.json"
    return dict(json.loads(path.read_text()))


def grown(before: dict[str, int], after: dict[str, int], name: str) -> int:
    """How much counter `name` grew."""
    return after.get(name, 0) - before.get(name, 0)


async def settled_stats(server: RadiusProcess, before: dict[str, int], sent: int) -> dict[str, int]:
    """Counters once the server has taken in (nearly) everything sent and written them out."""
    deadline = time.monotonic() + 5
    await asyncio.sleep(1.5)
    after = read_stats(server)
    while time.monotonic() < deadline:
        received = grown(before, after, "auth.received") + grown(before, after, "acct.received")
        if received >= sent:
            break
        await asyncio.sleep(0.5)
        after = read_stats(server)
    return after


async def radclient_checks(lab: Lab, server: RadiusProcess) -> list[str]:
    """An independent client (FreeRADIUS radclient) still gets an Access-Accept and a status."""
    login = (
        f'User-Name = "{lab.username}"\nUser-Password = "{lab.password}"\n'
        f'NAS-Identifier = "{lab.point.nas_id}"\nCalling-Station-Id = "{MAC}"\n'
        "Message-Authenticator = 0x00\n"
    )
    status = f'NAS-Identifier = "{lab.point.nas_id}"\nMessage-Authenticator = 0x00\n'
    secret = lab.point.radius_secret
    results: list[RadclientResult] = await asyncio.gather(
        asyncio.to_thread(radclient, server.auth, "auth", secret, login),
        asyncio.to_thread(radclient, server.auth, "status", secret, status),
    )
    auth, alive = results
    problems = []
    if auth.code != "Access-Accept" or "Session-Timeout" not in auth.attributes:
        problems.append(f"radclient auth:\n{auth.output}")
    elif auth.attribute_order[0] != "Message-Authenticator":
        problems.append(f"radclient auth: Message-Authenticator not first:\n{auth.output}")
    if alive.code != "Access-Accept":
        problems.append(f"radclient status:\n{alive.output}")
    return problems


# --- The test ----------------------------------------------------------------------------------


async def test_malformed_flood_is_never_answered_wrongly(
    runtime: Runtime, radius_server: RadiusProcess
) -> None:
    """Thousands of broken datagrams: none answered wrongly, valid requests still served."""
    started = time.monotonic()
    log_start = len(radius_server.log_text())
    point = await create_point(runtime, nas_type=NasType.MIKROTIK)
    other = await create_point(runtime)
    grant = await issue(runtime, point, mac=MAC)
    lab = Lab(
        point=point, username=grant.username, password=grant.password, rng=random.Random(SEED)
    )
    probes = all_probes(lab, other)
    mutators = [await open_socket() for _ in range(3)]
    valid = ValidTraffic(lab=lab, client=await open_socket(), server=radius_server)
    await asyncio.sleep(max(0.0, 1.1 - (time.monotonic() - started)))  # counters written out
    before = read_stats(radius_server)

    await valid.round()  # the first login binds the grant to MAC
    sent: dict[tuple[int, str, int], list[Probe]] = {}
    sizes = Counter(probe.kind for probe in probes)
    for index, probe in enumerate(probes):
        which = index % len(mutators)
        mutators[which].send(probe.datagram, getattr(radius_server, probe.port))
        if len(probe.datagram) > 1:
            sent.setdefault((which, probe.port, probe.datagram[1]), []).append(probe)
        if index % VALID_EVERY == VALID_EVERY - 1:
            await valid.round()
        elif len(probe.datagram) > 4096:
            await valid.barrier((probe.port,))
        elif index % BARRIER_EVERY == BARRIER_EVERY - 1:
            await valid.barrier()
    for _ in range(2):
        await valid.round()
    radclient_problems = await radclient_checks(lab, radius_server)
    sockets = [*mutators, valid.client]
    after = await settled_stats(radius_server, before, sum(s.sent for s in sockets) + 2)

    wrong: list[str] = []
    answered: Counter[str] = Counter()
    for which, mutator in enumerate(mutators):
        for (_, port_number), reply in mutator.replies:
            port = AUTH if port_number == radius_server.auth_port else ACCT
            candidates = sent.get((which, port, reply[1] if len(reply) > 1 else -1), [])
            probe, problems = judge(reply, candidates, lab)
            if probe is not None:
                answered[probe.kind] += 1
            if problems:
                kind = probe.kind if probe else "?"
                wrong.append(f"{kind} on {port}: {'; '.join(problems)}: reply {reply.hex()}")
    for listener in sockets:
        close(listener)
    print(
        f"\n{len(probes)} mutated datagrams {dict(sizes)}; answered (legitimately) "
        f"{dict(answered)}; {valid.rounds} valid rounds, {valid.barriers} barriers; "
        f"{time.monotonic() - started:.1f}s; counters grew "
        f"{ {k: grown(before, after, k) for k in sorted(after) if grown(before, after, k)} }"
    )

    assert not wrong, f"{len(wrong)} wrong answers:\n" + "\n".join(wrong[:20])
    assert not valid.problems, "\n".join(valid.problems)
    assert not radclient_problems, "\n".join(radclient_problems)
    assert radius_server.process is not None and radius_server.process.poll() is None
    assert "Traceback" not in radius_server.log_text()[log_start:]
    received = grown(before, after, "auth.received") + grown(before, after, "acct.received")
    assert received >= 0.99 * sum(s.sent for s in sockets), (received, len(probes))
    # At least every non-empty datagram with broken framing; the server also counts NAS-Identifiers
    # that are not UTF-8 and too many attributes as malformed.
    broken = sum(1 for p in probes if p.datagram and well_framed(p.datagram) is None)
    assert grown(before, after, "dropped.malformed") >= broken
    assert grown(before, after, "dropped.bad_message_authenticator") > 0
    assert grown(before, after, "dropped.unknown_client") > 0
    assert grown(before, after, "dropped.internal_error") == 0
    # Only the valid logins (and radclient's) were accepted: no mutated one got through.
    assert grown(before, after, "access.accept") == valid.access_requests + 1


async def test_nul_octets_are_dropped_without_internal_errors(
    runtime: Runtime,
    radius_server: RadiusProcess,
    database_url: str,
    request: pytest.FixtureRequest,
) -> None:
    """NUL is valid UTF-8 but not database text: drop (or answer) cleanly, never crash."""
    log_start = len(radius_server.log_text())
    point = await create_point(runtime)
    grant = await issue(runtime, point, mac=MAC)
    lab = Lab(point=point, username=grant.username, password=grant.password, rng=random.Random(7))
    await asyncio.sleep(1.1)  # counters of earlier tests written out
    before = read_stats(radius_server)
    probes: list[Probe] = []
    for nas in (b"\x00", b"nas\x00x", point.nas_id.encode() + b"\x00"):
        probes += signed_variants(lab, b"", "nul-nas-identifier", nas=nas)
    probes += [
        Probe(ACCT, raw_accounting(lab, b"", user=b"nul\x00user"), "nul-text"),
        Probe(ACCT, raw_accounting(lab, b"", session=b"nul\x00session"), "nul-text"),
        Probe(AUTH, raw_access(lab, b"", user=b"nul\x00user"), "nul-text"),
    ]
    mutator = await open_socket()
    for probe in probes:
        mutator.send(probe.datagram, getattr(radius_server, probe.port))
    valid = ValidTraffic(lab=lab, client=await open_socket(), server=radius_server)
    await valid.round()
    after = await settled_stats(radius_server, before, mutator.sent + valid.client.sent)

    wrong = []
    for (_, port_number), reply in mutator.replies:
        port = AUTH if port_number == radius_server.auth_port else ACCT
        candidates = [p for p in probes if p.port == port and p.datagram[1] == reply[1]]
        probe, problems = judge(reply, candidates, lab)
        wrong += [f"{probe.kind if probe else '?'}: {problem}" for problem in problems]
    for listener in (mutator, valid.client):
        close(listener)
    assert not wrong, "\n".join(wrong)
    assert not valid.problems, "\n".join(valid.problems)
    assert radius_server.process is not None and radius_server.process.poll() is None
    assert grown(before, after, "dropped.internal_error") == 0
    assert "Traceback" not in radius_server.log_text()[log_start:]

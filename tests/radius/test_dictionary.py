"""The project's RADIUS dictionary, checked against FreeRADIUS's copies and read back by pyrad.

The FreeRADIUS dictionaries come from the Debian package freeradius-common, which CI installs:
without /usr/share/freeradius these tests fail rather than skip.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pyrad.dictionary import Dictionary
from pyrad.packet import (
    AccessRequest,
    AcctPacket,
    AuthPacket,
    CoAPacket,
    DisconnectNAK,
    DisconnectRequest,
)

from radius.dictionary import DICTIONARY_DIR, load_dictionary

FREERADIUS_DIR = Path("/usr/share/freeradius")
TOP_FILE = "dictionary"
SECRET = b"testing123"

OUR_FILES = sorted(p.name for p in DICTIONARY_DIR.glob("dictionary.*"))

# The FreeRADIUS files an attribute of ours is compared with, when that is not just the file
# of the same name. RFC 5176 obsoletes RFC 3576, whose Error-Cause our file carries.
REFERENCE_FILES: dict[str, tuple[str, ...]] = {
    "dictionary.rfc5176": ("dictionary.rfc3576", "dictionary.rfc5176"),
}

# FreeRADIUS data types pyrad lacks, and the pyrad type our files use instead.
TYPE_FAMILY = {"vsa": "octets"}

# CoovaChilli attributes that FreeRADIUS's dictionary.chillispot lacks: copied from
# CoovaChilli's doc/dictionary.coovachilli (github.com/coova/coova-chilli), as (code, type).
COOVACHILLI_ATTRIBUTES: dict[str, tuple[int, str]] = {
    "ChilliSpot-Acct-View-Point": (10, "integer"),
    "ChilliSpot-Require-UAM": (11, "string"),
    "ChilliSpot-Require-Splash": (12, "string"),
    "ChilliSpot-Route-To-Interface": (13, "string"),
    "ChilliSpot-Config-File": (14, "string"),
    "ChilliSpot-Session-State": (15, "integer"),
    "ChilliSpot-Session-Id": (16, "string"),
    "ChilliSpot-AP-Session-Id": (17, "string"),
    "ChilliSpot-User-Agent": (18, "string"),
    "ChilliSpot-Accept-Language": (19, "string"),
    "ChilliSpot-Max-Input-Gigawords": (21, "integer"),
    "ChilliSpot-Max-Output-Gigawords": (22, "integer"),
    "ChilliSpot-Max-Total-Gigawords": (23, "integer"),
    "ChilliSpot-VLAN-Id": (24, "integer"),
    "ChilliSpot-Location": (25, "string"),
    "ChilliSpot-Old-Location": (26, "string"),
    "ChilliSpot-Location-Change-Count": (27, "integer"),
    "ChilliSpot-Sys-Uptime": (40, "integer"),
    "ChilliSpot-Sys-LoadAvg": (41, "string"),
    "ChilliSpot-Sys-Memory": (42, "string"),
    "ChilliSpot-DHCP-Vendor-Class-Id": (50, "octets"),
    "ChilliSpot-DHCP-Client-Id": (51, "octets"),
    "ChilliSpot-DHCP-Options": (52, "octets"),
    "ChilliSpot-DHCP-Filename": (53, "string"),
    "ChilliSpot-DHCP-Hostname": (54, "string"),
    "ChilliSpot-DHCP-Server-Name": (55, "string"),
    "ChilliSpot-DHCP-Client-FQDN": (56, "string"),
    "ChilliSpot-DHCP-Parameter-Request-List": (57, "octets"),
    "ChilliSpot-DHCP-IP-Address": (60, "ipaddr"),
    "ChilliSpot-DHCP-Netmask": (61, "ipaddr"),
    "ChilliSpot-DHCP-DNS1": (62, "ipaddr"),
    "ChilliSpot-DHCP-DNS2": (63, "ipaddr"),
    "ChilliSpot-DHCP-Gateway": (64, "ipaddr"),
    "ChilliSpot-DHCP-Domain": (65, "string"),
    "ChilliSpot-DHCP-Relay": (66, "ipaddr"),
    "ChilliSpot-Inject-URL": (70, "string"),
    "ChilliSpot-PostAuthProxy-Address": (75, "ipaddr"),
    "ChilliSpot-PostAuthProxy-Port": (76, "integer"),
    "ChilliSpot-Garden-Input-Octets": (80, "integer"),
    "ChilliSpot-Garden-Output-Octets": (81, "integer"),
    "ChilliSpot-Garden-Input-Gigawords": (82, "integer"),
    "ChilliSpot-Garden-Output-Gigawords": (83, "integer"),
    "ChilliSpot-Other-Input-Octets": (84, "integer"),
    "ChilliSpot-Other-Output-Octets": (85, "integer"),
    "ChilliSpot-Other-Input-Gigawords": (86, "integer"),
    "ChilliSpot-Other-Output-Gigawords": (87, "integer"),
}
COOVACHILLI_VALUES: dict[tuple[str, str], int] = {
    ("ChilliSpot-Acct-View-Point", "ChilliSpot-NAS-View-Point"): 1,
    ("ChilliSpot-Acct-View-Point", "ChilliSpot-Client-View-Point"): 2,
    ("ChilliSpot-Session-State", "Authorized"): 1,
    ("ChilliSpot-Session-State", "NotAuthorized"): 2,
    ("ChilliSpot-Session-State", "Started"): 3,
    ("ChilliSpot-Session-State", "Stopped"): 4,
    ("ChilliSpot-Session-State", "UserLogoutUrl"): 10,
    ("ChilliSpot-Session-State", "IdleTimeoutReached"): 11,
    ("ChilliSpot-Session-State", "TimeoutReached"): 12,
    ("ChilliSpot-Session-State", "LogoutTimeReached"): 13,
    ("ChilliSpot-Session-State", "InDataLimitReached"): 14,
    ("ChilliSpot-Session-State", "OutDataLimitReached"): 15,
    ("ChilliSpot-Session-State", "TotalDataLimitReached"): 16,
    ("ChilliSpot-Session-State", "LocationChanged"): 17,
}

# What a MikroTik hotspot, CoovaChilli or uspot sends, and what Cautiva replies with.
REQUIRED_ATTRIBUTES = [
    "User-Name",
    "User-Password",
    "CHAP-Password",
    "CHAP-Challenge",
    "NAS-IP-Address",
    "NAS-IPv6-Address",
    "NAS-Port",
    "NAS-Port-Id",
    "NAS-Port-Type",
    "NAS-Identifier",
    "Service-Type",
    "Framed-Protocol",
    "Framed-IP-Address",
    "Filter-Id",
    "Reply-Message",
    "State",
    "Class",
    "Vendor-Specific",
    "Session-Timeout",
    "Idle-Timeout",
    "Termination-Action",
    "Called-Station-Id",
    "Calling-Station-Id",
    "Proxy-State",
    "Acct-Status-Type",
    "Acct-Delay-Time",
    "Acct-Input-Octets",
    "Acct-Output-Octets",
    "Acct-Session-Id",
    "Acct-Authentic",
    "Acct-Session-Time",
    "Acct-Input-Packets",
    "Acct-Output-Packets",
    "Acct-Terminate-Cause",
    "Acct-Multi-Session-Id",
    "Acct-Link-Count",
    "Acct-Input-Gigawords",
    "Acct-Output-Gigawords",
    "Event-Timestamp",
    "Connect-Info",
    "Message-Authenticator",
    "Acct-Interim-Interval",
    "Chargeable-User-Identity",
    "Error-Cause",
    "Mikrotik-Recv-Limit",
    "Mikrotik-Xmit-Limit",
    "Mikrotik-Group",
    "Mikrotik-Rate-Limit",
    "Mikrotik-Realm",
    "Mikrotik-Host-IP",
    "Mikrotik-Mark-Id",
    "Mikrotik-Advertise-URL",
    "Mikrotik-Advertise-Interval",
    "Mikrotik-Recv-Limit-Gigawords",
    "Mikrotik-Xmit-Limit-Gigawords",
    "Mikrotik-Total-Limit",
    "Mikrotik-Total-Limit-Gigawords",
    "Mikrotik-Address-List",
    "Mikrotik-Wireless-PSK",
    "WISPr-Location-ID",
    "WISPr-Location-Name",
    "WISPr-Logoff-URL",
    "WISPr-Redirection-URL",
    "WISPr-Bandwidth-Max-Up",
    "WISPr-Bandwidth-Max-Down",
    "WISPr-Session-Terminate-Time",
    "ChilliSpot-Max-Input-Octets",
    "ChilliSpot-Max-Output-Octets",
    "ChilliSpot-Max-Total-Octets",
    "ChilliSpot-Bandwidth-Max-Up",
    "ChilliSpot-Bandwidth-Max-Down",
    "ChilliSpot-Config",
    "ChilliSpot-Lang",
    "ChilliSpot-Version",
    "ChilliSpot-OriginalURL",
    "ChilliSpot-Acct-View-Point",
    "ChilliSpot-Max-Input-Gigawords",
    "ChilliSpot-Max-Output-Gigawords",
    "ChilliSpot-Max-Total-Gigawords",
]


@dataclass(frozen=True)
class AttributeDef:
    code: int
    type: str
    vendor: int  # vendor ID, 0 for a standard attribute


@dataclass
class DictionaryFile:
    """The definitions of one or more dictionary files, $INCLUDEs not followed."""

    vendors: dict[str, int] = field(default_factory=dict)
    attributes: dict[str, AttributeDef] = field(default_factory=dict)
    # (attribute, value name) -> number, in file order
    values: dict[tuple[str, str], int] = field(default_factory=dict)
    includes: list[str] = field(default_factory=list)


def parse(*paths: Path) -> DictionaryFile:
    """A tiny FreeRADIUS dictionary parser, independent of pyrad's."""
    result = DictionaryFile()
    for path in paths:
        vendor = 0
        for line in path.read_text(encoding="utf-8").splitlines():
            tokens = line.split("#", 1)[0].split()
            if not tokens:
                continue
            keyword = tokens[0].upper()
            if keyword == "VENDOR":
                result.vendors[tokens[1]] = int(tokens[2], 0)
            elif keyword == "BEGIN-VENDOR":
                vendor = result.vendors[tokens[1]]
            elif keyword == "END-VENDOR":
                vendor = 0
            elif keyword == "ATTRIBUTE":
                name, code, datatype = tokens[1:4]
                attr_vendor = vendor
                if len(tokens) > 4 and tokens[4] in result.vendors:
                    attr_vendor = result.vendors[tokens[4]]
                result.attributes[name] = AttributeDef(
                    int(code, 0), datatype.split("[", 1)[0], attr_vendor
                )
            elif keyword == "VALUE":
                result.values[(tokens[1], tokens[2])] = int(tokens[3], 0)
            elif keyword in ("$INCLUDE", "$INCLUDE-"):
                result.includes.append(tokens[1])
    return result


def type_family(datatype: str) -> str:
    return TYPE_FAMILY.get(datatype, datatype)


@pytest.fixture(scope="module")
def freeradius_dir() -> Path:
    assert FREERADIUS_DIR.is_dir(), (
        f"{FREERADIUS_DIR} is missing: install the Debian package freeradius-common"
    )
    return FREERADIUS_DIR


@pytest.fixture(scope="module")
def ours() -> DictionaryFile:
    """All our files, in the order the top file includes them."""
    top = parse(DICTIONARY_DIR / TOP_FILE)
    return parse(*(DICTIONARY_DIR / name for name in top.includes))


def test_freeradius_dictionaries_are_installed(freeradius_dir: Path) -> None:
    assert (freeradius_dir / "dictionary.rfc2865").is_file()


def test_top_file_includes_every_file() -> None:
    top = parse(DICTIONARY_DIR / TOP_FILE)
    assert top.attributes == {}
    assert sorted(top.includes) == OUR_FILES
    assert len(top.includes) == len(set(top.includes))


@pytest.mark.parametrize("name", [TOP_FILE, *OUR_FILES])
def test_file_starts_with_two_line_comment_and_is_ascii(name: str) -> None:
    data = (DICTIONARY_DIR / name).read_bytes()
    # pyrad opens dictionary files in the locale's encoding
    assert data.isascii()
    first, second = data.decode().splitlines()[:2]
    assert first.startswith("# ")
    assert second.startswith("# ")


@pytest.mark.parametrize("name", OUR_FILES)
def test_attributes_match_freeradius(freeradius_dir: Path, name: str) -> None:
    mine = parse(DICTIONARY_DIR / name)
    reference = parse(*(freeradius_dir / f for f in REFERENCE_FILES.get(name, (name,))))
    problems = []

    for vendor, vendor_id in mine.vendors.items():
        if reference.vendors.get(vendor) != vendor_id:
            problems.append(
                f"VENDOR {vendor} {vendor_id}: FreeRADIUS has {reference.vendors.get(vendor)}"
            )

    for attr, definition in mine.attributes.items():
        if attr in reference.attributes:
            theirs = reference.attributes[attr]
            expected = AttributeDef(theirs.code, type_family(theirs.type), theirs.vendor)
        elif name == "dictionary.chillispot" and attr in COOVACHILLI_ATTRIBUTES:
            code, datatype = COOVACHILLI_ATTRIBUTES[attr]
            expected = AttributeDef(code, datatype, mine.vendors["ChilliSpot"])
        else:
            problems.append(f"{attr}: not in FreeRADIUS's {name}")
            continue
        if definition != expected:
            problems.append(f"{attr}: {definition}, expected {expected}")

    for key, number in mine.values.items():
        expected_number = reference.values.get(key)
        if expected_number is None and name == "dictionary.chillispot":
            expected_number = COOVACHILLI_VALUES.get(key)
        if expected_number != number:
            problems.append(f"VALUE {key}: {number}, expected {expected_number}")

    assert not problems, "\n".join(problems)


def test_chillispot_has_every_coovachilli_attribute() -> None:
    mine = parse(DICTIONARY_DIR / "dictionary.chillispot")
    assert set(COOVACHILLI_ATTRIBUTES) <= set(mine.attributes)
    assert set(COOVACHILLI_VALUES) <= set(mine.values)


def test_pyrad_reads_every_definition_as_written(ours: DictionaryFile) -> None:
    dictionary = load_dictionary()
    assert dictionary.skipped_attributes == set()
    assert len(dictionary) == len(ours.attributes)
    for attr, definition in ours.attributes.items():
        loaded = dictionary[attr]
        assert (loaded.code, loaded.type, dictionary.vendors[loaded.vendor]) == (
            definition.code,
            definition.type,
            definition.vendor,
        ), attr
    for (attr, value_name), number in ours.values.items():
        assert dictionary[attr].values[value_name] == struct.pack("!I", number)


def test_includes_resolve_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    with caplog.at_level(logging.DEBUG, logger="pyrad"):
        dictionary = Dictionary(str(DICTIONARY_DIR / TOP_FILE))
    # pyrad logs skipped attributes and VALUEs of unknown attributes
    assert [r for r in caplog.records if r.name == "pyrad"] == []
    assert len(dictionary) == len(load_dictionary())


def test_load_dictionary_is_cached() -> None:
    assert load_dictionary() is load_dictionary()


@pytest.mark.parametrize("attr", REQUIRED_ATTRIBUTES)
def test_required_attribute_is_defined(attr: str) -> None:
    assert attr in load_dictionary()


def test_packet_round_trip() -> None:
    dictionary = load_dictionary()
    request = AcctPacket(secret=SECRET, dict=dictionary)
    request["Mikrotik-Rate-Limit"] = "1M/2M"
    request["WISPr-Bandwidth-Max-Down"] = 2_000_000
    request["ChilliSpot-Bandwidth-Max-Up"] = 1024
    request["Acct-Status-Type"] = "Interim-Update"
    request["Event-Timestamp"] = 1_700_000_000
    request["Framed-IP-Address"] = "10.1.0.2"
    raw = request.RequestPacket()

    # RFC 2865 section 5.26 vendor-specific format: 26, length, vendor ID, type, length, value
    assert b"\x1a\x0d\x00\x00\x3a\x8c\x08\x071M/2M" in raw  # Mikrotik 14988
    assert b"\x1a\x0c\x00\x00\x37\x2a\x08\x06\x00\x1e\x84\x80" in raw  # WISPr 14122
    assert b"\x1a\x0c\x00\x00\x38\xdf\x04\x06\x00\x00\x04\x00" in raw  # ChilliSpot 14559
    assert b"\x28\x06\x00\x00\x00\x03" in raw  # Acct-Status-Type = 3

    received = AcctPacket(packet=raw, secret=SECRET, dict=dictionary)
    assert received.VerifyAcctRequest()
    assert set(received.keys()) == {
        "Mikrotik-Rate-Limit",
        "WISPr-Bandwidth-Max-Down",
        "ChilliSpot-Bandwidth-Max-Up",
        "Acct-Status-Type",
        "Event-Timestamp",
        "Framed-IP-Address",
    }
    assert received["Mikrotik-Rate-Limit"] == ["1M/2M"]
    assert received["WISPr-Bandwidth-Max-Down"] == [2_000_000]
    assert received["ChilliSpot-Bandwidth-Max-Up"] == [1024]
    assert received["Acct-Status-Type"] == ["Interim-Update"]
    assert received["Event-Timestamp"] == [1_700_000_000]
    assert received["Framed-IP-Address"] == ["10.1.0.2"]


def test_access_accept_round_trip() -> None:
    dictionary = load_dictionary()
    request = AuthPacket(code=AccessRequest, secret=SECRET, dict=dictionary)
    request["User-Name"] = "guest"
    request["NAS-Port-Type"] = "Wireless-802.11"
    request["Service-Type"] = "Login-User"
    request.RequestPacket()

    reply = request.CreateReply()
    reply["Session-Timeout"] = 3600
    reply["Acct-Interim-Interval"] = 300
    reply["Mikrotik-Rate-Limit"] = "1M/2M"
    reply["Mikrotik-Total-Limit"] = 500_000_000
    reply["WISPr-Bandwidth-Max-Up"] = 1_000_000
    reply["ChilliSpot-Max-Total-Octets"] = 500_000_000
    reply["Class"] = b"\x01session"
    received = request.CreateReply(packet=reply.ReplyPacket())

    assert request.VerifyReply(received)
    assert received["Mikrotik-Rate-Limit"] == ["1M/2M"]
    assert received["Mikrotik-Total-Limit"] == [500_000_000]
    assert received["WISPr-Bandwidth-Max-Up"] == [1_000_000]
    assert received["ChilliSpot-Max-Total-Octets"] == [500_000_000]
    assert received["Class"] == [b"\x01session"]


def test_disconnect_nak_error_cause() -> None:
    dictionary = load_dictionary()
    request = CoAPacket(code=DisconnectRequest, secret=SECRET, dict=dictionary)
    request["Acct-Session-Id"] = "52e65dc500000001"
    request.RequestPacket()
    reply = request.CreateReply()
    reply.code = DisconnectNAK
    reply["Error-Cause"] = "Session-Context-Not-Found"
    received = request.CreateReply(packet=reply.ReplyPacket())
    assert received.code == DisconnectNAK
    assert request.VerifyReply(received)
    assert received["Error-Cause"] == ["Session-Context-Not-Found"]


def _decoded_names(ours: DictionaryFile) -> dict[tuple[str, int], str]:
    """The name each (attribute, number) decodes to: the one defined last, like pyrad."""
    names: dict[tuple[str, int], str] = {}
    for (attr, value_name), number in ours.values.items():
        names[(attr, number)] = value_name
    return names


def test_every_value_decodes_to_its_name(ours: DictionaryFile) -> None:
    dictionary = load_dictionary()
    decoded_names = _decoded_names(ours)
    for (attr, value_name), number in ours.values.items():
        packet = AcctPacket(secret=SECRET, dict=dictionary)
        packet[attr] = value_name
        received = AcctPacket(packet=packet.RequestPacket(), secret=SECRET, dict=dictionary)
        assert received[attr] == [decoded_names[(attr, number)]], (attr, value_name)


@pytest.mark.parametrize(
    ("attr", "value_name", "number"),
    [
        ("Acct-Status-Type", "Start", 1),
        ("Acct-Status-Type", "Stop", 2),
        ("Acct-Status-Type", "Interim-Update", 3),
        ("Acct-Status-Type", "Accounting-On", 7),
        ("Acct-Status-Type", "Accounting-Off", 8),
        ("Acct-Terminate-Cause", "User-Request", 1),
        ("Acct-Terminate-Cause", "Idle-Timeout", 4),
        ("Acct-Terminate-Cause", "Session-Timeout", 5),
        ("Acct-Terminate-Cause", "Admin-Reset", 6),
        ("Acct-Terminate-Cause", "Host-Request", 18),
        ("NAS-Port-Type", "Virtual", 5),
        ("NAS-Port-Type", "Ethernet", 15),
        ("NAS-Port-Type", "Wireless-802.11", 19),
        ("Service-Type", "Login-User", 1),
        ("Service-Type", "Authorize-Only", 17),
        ("Error-Cause", "Session-Context-Not-Found", 503),
        ("ChilliSpot-Acct-View-Point", "ChilliSpot-Client-View-Point", 2),
    ],
)
def test_enumerated_value_decodes_from_wire(attr: str, value_name: str, number: int) -> None:
    dictionary = load_dictionary()
    packet = AcctPacket(secret=SECRET, dict=dictionary)
    attribute = dictionary[attr]
    value = struct.pack("!I", number)
    if attribute.vendor:
        packet[(dictionary.vendors[attribute.vendor], attribute.code)] = [value]
    else:
        packet[attribute.code] = [value]
    received = AcctPacket(packet=packet.RequestPacket(), secret=SECRET, dict=dictionary)
    assert received[attr] == [value_name]

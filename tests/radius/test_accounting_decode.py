"""Decoding Accounting-Requests into accounting events, and dating them."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta

import pytest
from pyrad.packet import AcctPacket

from cautiva.accounting.service import AccountingEvent, AcctStatus
from radius import wire
from radius.accounting import (
    EVENT_TIMESTAMP_TOLERANCE,
    MAX_DELAY,
    IgnoredStatus,
    MalformedAccounting,
    accounting_event,
    event_time,
)
from radius.codec import ReplyEncoder, Request
from radius.dictionary import load_dictionary

SECRET = b"acct-decode-secret"
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
SOURCE = "198.51.100.7"
ENCODER = ReplyEncoder(load_dictionary())


def received(*, extra: bytes = b"", **attributes: object) -> Request:
    """Encode an Accounting-Request with pyrad (then `extra` raw attributes), frame it as the
    server does."""
    request = AcctPacket(id=5, secret=SECRET, dict=load_dictionary())
    for name, value in attributes.items():
        request.AddAttribute(name.replace("_", "-"), value)
    datagram = request.RequestPacket()
    if extra:
        datagram = datagram[:2] + struct.pack("!H", len(datagram) + len(extra)) + datagram[4:]
        datagram += extra
    return Request(wire.parse_frame(datagram, max_attributes=100))


def attribute(code: int, value: bytes) -> bytes:
    return bytes((code, len(value) + 2)) + value


def cause_name(raw: bytes) -> str | None:
    """What the server passes: the dictionary's name for an Acct-Terminate-Cause value."""
    return ENCODER.value_name("Acct-Terminate-Cause", raw)


def decode(request: Request, now: datetime = NOW) -> AccountingEvent:
    return accounting_event(request, point_id=3, source=SOURCE, now=now, cause_name=cause_name)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("Start", AcctStatus.START),
        ("Stop", AcctStatus.STOP),
        ("Interim-Update", AcctStatus.INTERIM),
        (3, AcctStatus.INTERIM),
        ("Accounting-On", AcctStatus.ON),
        ("Accounting-Off", AcctStatus.OFF),
    ],
)
def test_status_mapping(status: object, expected: AcctStatus) -> None:
    request = received(Acct_Status_Type=status, Acct_Session_Id="80000001", User_Name="user")
    assert decode(request).status is expected


def test_start_event_fields() -> None:
    request = received(
        Acct_Status_Type="Start",
        Acct_Session_Id="80000001",
        User_Name="abcdefghjk",
        Calling_Station_Id="aa-bb-cc-dd-ee-0f",
        Framed_IP_Address="10.5.50.23",
    )
    event = decode(request)
    assert event.point_id == 3
    assert event.status is AcctStatus.START
    assert event.event_time == NOW
    assert event.username == "abcdefghjk"
    assert event.acct_session_id == "80000001"
    assert event.mac == "AA:BB:CC:DD:EE:0F"
    assert event.framed_ip == "10.5.50.23"
    assert event.nas_address == SOURCE
    assert event.session_time is None
    assert event.input_octets == 0
    assert event.output_octets == 0
    assert event.terminate_cause is None


def test_interim_counters_and_gigawords() -> None:
    request = received(
        Acct_Status_Type="Interim-Update",
        Acct_Session_Id="80000001",
        User_Name="abcdefghjk",
        Acct_Session_Time=620,
        Acct_Input_Octets=123456,
        Acct_Output_Octets=654321,
        Acct_Input_Gigawords=1,
        Acct_Output_Gigawords=3,
    )
    event = decode(request)
    assert event.status is AcctStatus.INTERIM
    assert event.session_time == 620
    assert event.input_octets == 123456
    assert event.output_octets == 654321
    assert event.input_gigawords == 1
    assert event.output_gigawords == 3


def test_stop_terminate_cause_is_its_name() -> None:
    request = received(
        Acct_Status_Type="Stop",
        Acct_Session_Id="80000001",
        User_Name="abcdefghjk",
        Acct_Session_Time=3600,
        Acct_Terminate_Cause="Session-Timeout",
    )
    event = decode(request)
    assert event.status is AcctStatus.STOP
    assert event.session_time == 3600
    assert event.terminate_cause == "Session-Timeout"


def test_unknown_terminate_cause_is_kept_as_a_number() -> None:
    request = received(
        Acct_Status_Type="Stop",
        Acct_Session_Id="80000001",
        User_Name="abcdefghjk",
        Acct_Terminate_Cause=99,
    )
    assert decode(request).terminate_cause == "99"


def test_unknown_terminate_cause_without_a_name_is_kept_as_a_number() -> None:
    request = received(
        Acct_Status_Type="Stop",
        Acct_Session_Id="80000001",
        User_Name="abcdefghjk",
        Acct_Terminate_Cause=99,
    )
    seen: list[bytes] = []

    def no_name(raw: bytes) -> str | None:
        seen.append(raw)
        return None

    event = accounting_event(request, point_id=3, source=SOURCE, now=NOW, cause_name=no_name)
    assert event.terminate_cause == "99"
    # The callback gets the value as received: 4 octets, network order.
    assert seen == [(99).to_bytes(4, "big")]


def test_terminate_cause_is_a_number_without_a_cause_name_callback() -> None:
    request = received(
        Acct_Status_Type="Stop",
        Acct_Session_Id="80000001",
        User_Name="abcdefghjk",
        Acct_Terminate_Cause="Session-Timeout",
    )
    event = accounting_event(request, point_id=3, source=SOURCE, now=NOW)
    assert event.terminate_cause == "5"


def test_terminate_cause_name_is_cut_to_its_column() -> None:
    request = received(
        Acct_Status_Type="Stop",
        Acct_Session_Id="80000001",
        User_Name="abcdefghjk",
        Acct_Terminate_Cause=1,
    )
    event = accounting_event(
        request, point_id=3, source=SOURCE, now=NOW, cause_name=lambda raw: "c" * 60
    )
    assert event.terminate_cause == "c" * 40


def test_invalid_calling_station_id_gives_no_mac() -> None:
    request = received(
        Acct_Status_Type="Start",
        Acct_Session_Id="80000001",
        User_Name="abcdefghjk",
        Calling_Station_Id="not-a-mac",
    )
    assert decode(request).mac is None


def test_accounting_on_needs_no_session_id() -> None:
    event = decode(received(Acct_Status_Type="Accounting-On"))
    assert event.status is AcctStatus.ON
    assert event.acct_session_id == ""
    assert event.username == ""


@pytest.mark.parametrize(
    "status",
    [
        pytest.param(9, id="tunnel-start"),
        pytest.param(10, id="tunnel-stop"),
        pytest.param(15, id="failed"),
    ],
)
def test_ignored_statuses(status: int) -> None:
    request = received(Acct_Status_Type=status, Acct_Session_Id="80000001", User_Name="user")
    with pytest.raises(IgnoredStatus):
        decode(request)


def test_missing_status_is_malformed() -> None:
    request = received(Acct_Session_Id="80000001", User_Name="user")
    with pytest.raises(MalformedAccounting, match="Acct-Status-Type"):
        decode(request)


@pytest.mark.parametrize("status", ["Start", "Stop", "Interim-Update"])
def test_session_event_without_session_id_is_malformed(status: str) -> None:
    request = received(Acct_Status_Type=status, User_Name="user")
    with pytest.raises(MalformedAccounting, match="Acct-Session-Id"):
        decode(request)


def test_long_values_are_cut_to_their_columns() -> None:
    request = received(
        Acct_Status_Type="Start",
        Acct_Session_Id="s" * 253,
        User_Name="u" * 253,
    )
    event = decode(request)
    assert len(event.acct_session_id) == 253
    assert len(event.username) == 253


# --- Malformed attributes -------------------------------------------------------------------
# The router drops these as undecodable (wire.MalformedPacket), never records nonsense.

INTEGER_ATTRIBUTES = [
    pytest.param(wire.ACCT_SESSION_TIME, id="Acct-Session-Time"),
    pytest.param(wire.ACCT_INPUT_OCTETS, id="Acct-Input-Octets"),
    pytest.param(wire.ACCT_OUTPUT_OCTETS, id="Acct-Output-Octets"),
    pytest.param(wire.ACCT_INPUT_GIGAWORDS, id="Acct-Input-Gigawords"),
    pytest.param(wire.ACCT_OUTPUT_GIGAWORDS, id="Acct-Output-Gigawords"),
    pytest.param(wire.ACCT_TERMINATE_CAUSE, id="Acct-Terminate-Cause"),
    pytest.param(wire.ACCT_DELAY_TIME, id="Acct-Delay-Time"),
    pytest.param(wire.EVENT_TIMESTAMP, id="Event-Timestamp"),
]
WRONG_INTEGER_LENGTHS = [0, 1, 3, 5, 8]


def test_raw_integer_attribute_of_four_octets_is_read() -> None:
    """The control for the tests below: the same raw framing with 4 octets decodes."""
    request = received(
        Acct_Status_Type="Stop",
        Acct_Session_Id="80000001",
        User_Name="abcdefghjk",
        extra=attribute(wire.ACCT_SESSION_TIME, struct.pack("!I", 0x01020304))
        + attribute(wire.ACCT_TERMINATE_CAUSE, struct.pack("!I", 1)),
    )
    event = decode(request)
    assert event.session_time == 0x01020304
    assert event.terminate_cause == "User-Request"


@pytest.mark.parametrize("code", INTEGER_ATTRIBUTES)
@pytest.mark.parametrize("length", WRONG_INTEGER_LENGTHS)
def test_integer_attribute_of_wrong_length_is_malformed(code: int, length: int) -> None:
    request = received(
        Acct_Status_Type="Stop",
        Acct_Session_Id="80000001",
        User_Name="abcdefghjk",
        extra=attribute(code, bytes(range(1, length + 1))),
    )
    with pytest.raises(wire.MalformedPacket):
        decode(request)


@pytest.mark.parametrize("length", WRONG_INTEGER_LENGTHS)
def test_status_type_of_wrong_length_is_malformed(length: int) -> None:
    request = received(
        Acct_Session_Id="80000001",
        User_Name="abcdefghjk",
        extra=attribute(wire.ACCT_STATUS_TYPE, bytes(length - 1) + b"\x01" if length else b""),
    )
    with pytest.raises(wire.MalformedPacket):
        decode(request)


@pytest.mark.parametrize("code", [wire.ACCT_DELAY_TIME, wire.EVENT_TIMESTAMP])
def test_event_time_with_an_integer_of_wrong_length_is_malformed(code: int) -> None:
    request = received(Acct_Status_Type="Start", extra=attribute(code, b"\x00\x2d"))
    with pytest.raises(wire.MalformedPacket):
        event_time(request, NOW)


@pytest.mark.parametrize("length", [0, 3, 5, 16])
def test_framed_ip_address_of_wrong_length_is_malformed(length: int) -> None:
    request = received(
        Acct_Status_Type="Start",
        Acct_Session_Id="80000001",
        User_Name="abcdefghjk",
        extra=attribute(wire.FRAMED_IP_ADDRESS, bytes(range(10, 10 + length))),
    )
    with pytest.raises(wire.MalformedPacket):
        decode(request)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("User_Name", b"abcdefghjk\x00", id="User-Name-trailing-nul"),
        pytest.param("User_Name", b"abc\x00defghjk", id="User-Name-inner-nul"),
        pytest.param("User_Name", b"\xc3\x28", id="User-Name-not-utf8"),
        pytest.param("Acct_Session_Id", b"8000\x000001", id="Acct-Session-Id-nul"),
        pytest.param("Calling_Station_Id", b"aa-bb-cc-dd-ee-0f\x00", id="Calling-Station-Id-nul"),
    ],
)
def test_text_attribute_with_a_nul_or_bad_utf8_is_malformed(name: str, value: bytes) -> None:
    attributes: dict[str, object] = {
        "Acct_Status_Type": "Start",
        "Acct_Session_Id": "80000001",
        "User_Name": "abcdefghjk",
    }
    attributes[name] = value
    with pytest.raises(wire.MalformedPacket):
        decode(received(**attributes))


# --- event_time -----------------------------------------------------------------------------


def test_event_time_is_now_without_hints() -> None:
    assert event_time(received(Acct_Status_Type="Start"), NOW) == NOW


def test_event_time_subtracts_acct_delay_time() -> None:
    request = received(Acct_Status_Type="Start", Acct_Delay_Time=45)
    assert event_time(request, NOW) == NOW - timedelta(seconds=45)


def test_event_time_caps_acct_delay_time() -> None:
    request = received(Acct_Status_Type="Start", Acct_Delay_Time=10 * 86400)
    assert event_time(request, NOW) == NOW - MAX_DELAY


def test_event_time_uses_a_plausible_event_timestamp() -> None:
    stamp = NOW - timedelta(seconds=90)
    request = received(Acct_Status_Type="Start", Event_Timestamp=int(stamp.timestamp()))
    assert event_time(request, NOW) == stamp


def test_event_time_uses_event_timestamp_with_delay() -> None:
    stamp = NOW - timedelta(seconds=300)
    request = received(
        Acct_Status_Type="Stop", Acct_Delay_Time=290, Event_Timestamp=int(stamp.timestamp())
    )
    assert event_time(request, NOW) == stamp


@pytest.mark.parametrize(
    "stamp",
    [
        pytest.param(datetime(1970, 1, 1, 0, 7, tzinfo=UTC), id="router-without-rtc"),
        pytest.param(datetime(2000, 1, 1, tzinfo=UTC), id="years-off"),
        pytest.param(
            # The tolerance is measured from now less Acct-Delay-Time (20 s).
            NOW - timedelta(seconds=20) - EVENT_TIMESTAMP_TOLERANCE - timedelta(seconds=1),
            id="just-outside-tolerance",
        ),
        pytest.param(NOW + timedelta(seconds=30), id="in-the-future"),
    ],
)
def test_event_time_ignores_an_implausible_event_timestamp(stamp: datetime) -> None:
    request = received(
        Acct_Status_Type="Start", Acct_Delay_Time=20, Event_Timestamp=int(stamp.timestamp())
    )
    assert event_time(request, NOW) == NOW - timedelta(seconds=20)


def test_event_time_tolerance_edge_is_accepted() -> None:
    stamp = NOW - timedelta(seconds=20) - EVENT_TIMESTAMP_TOLERANCE
    request = received(
        Acct_Status_Type="Start", Acct_Delay_Time=20, Event_Timestamp=int(stamp.timestamp())
    )
    assert event_time(request, NOW) == stamp


def test_accounting_event_uses_event_time() -> None:
    request = received(
        Acct_Status_Type="Stop",
        Acct_Session_Id="80000001",
        User_Name="user",
        Acct_Delay_Time=12,
        Event_Timestamp=0,
    )
    assert decode(request).event_time == NOW - timedelta(seconds=12)

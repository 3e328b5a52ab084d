"""Decoding Accounting-Requests into accounting events, and dating them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pyrad.packet import AcctPacket

from cautiva.accounting.service import AcctStatus
from radius.accounting import (
    EVENT_TIMESTAMP_TOLERANCE,
    MAX_DELAY,
    IgnoredStatus,
    MalformedAccounting,
    accounting_event,
    event_time,
)
from radius.dictionary import load_dictionary

SECRET = b"acct-decode-secret"
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
SOURCE = "198.51.100.7"


def received(**attributes: object) -> AcctPacket:
    """Encode an Accounting-Request with pyrad and decode it as the server does."""
    request = AcctPacket(id=5, secret=SECRET, dict=load_dictionary())
    for name, value in attributes.items():
        request.AddAttribute(name.replace("_", "-"), value)
    return AcctPacket(packet=request.RequestPacket(), secret=SECRET, dict=load_dictionary())


def decode(request: AcctPacket, now: datetime = NOW):  # type: ignore[no-untyped-def]
    return accounting_event(request, point_id=3, source=SOURCE, now=now)


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

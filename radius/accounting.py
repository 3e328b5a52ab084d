"""Accounting-Request handling: decode into an accounting event for the domain core."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from cautiva.accounting.service import AccountingEvent, AcctStatus
from cautiva.macs import normalise_mac
from radius import wire
from radius.codec import Request

# Routers without a real-time clock (many MikroTik boards before NTP sync) send nonsense
# Event-Timestamps; only trust one close to our own clock.
EVENT_TIMESTAMP_TOLERANCE = timedelta(minutes=5)
# RFC 2866 section 5.2: Acct-Delay-Time is how long the client has been trying to send.
MAX_DELAY = timedelta(hours=1)

# RFC 2866 section 5.1 (and RFC 2867 for the tunnel values Cautiva does not record).
_STATUS = {
    1: AcctStatus.START,
    2: AcctStatus.STOP,
    3: AcctStatus.INTERIM,
    7: AcctStatus.ON,
    8: AcctStatus.OFF,
}


class IgnoredStatus(Exception):
    """An Acct-Status-Type Cautiva does not record (Tunnel-*, Failed): acknowledged only."""


class MalformedAccounting(ValueError):
    """An Accounting-Request missing what RFC 2866 requires; dropped."""


def accounting_event(
    request: Request,
    *,
    point_id: int,
    source: str,
    now: datetime,
    cause_name: Callable[[bytes], str | None] = lambda raw: None,
) -> AccountingEvent:
    """Return the accounting event in `request`; raise IgnoredStatus or MalformedAccounting."""
    raw_status = request.integer(wire.ACCT_STATUS_TYPE)
    if raw_status is None:
        raise MalformedAccounting("no Acct-Status-Type")
    status = _STATUS.get(raw_status)
    if status is None:
        raise IgnoredStatus(str(raw_status))
    session_id = request.text(wire.ACCT_SESSION_ID) or ""
    if status not in (AcctStatus.ON, AcctStatus.OFF) and not session_id:
        raise MalformedAccounting("no Acct-Session-Id")
    cause = request.raw(wire.ACCT_TERMINATE_CAUSE)
    if cause is not None and len(cause) != 4:
        raise wire.MalformedPacket("Acct-Terminate-Cause is not 4 octets")
    return AccountingEvent(
        point_id=point_id,
        status=status,
        event_time=event_time(request, now),
        username=(request.text(wire.USER_NAME) or "")[:253],
        acct_session_id=session_id[:253],
        mac=normalise_mac(request.text(wire.CALLING_STATION_ID)),
        framed_ip=request.ipv4(wire.FRAMED_IP_ADDRESS),
        nas_address=source,
        session_time=request.integer(wire.ACCT_SESSION_TIME),
        input_octets=request.integer(wire.ACCT_INPUT_OCTETS) or 0,
        output_octets=request.integer(wire.ACCT_OUTPUT_OCTETS) or 0,
        input_gigawords=request.integer(wire.ACCT_INPUT_GIGAWORDS) or 0,
        output_gigawords=request.integer(wire.ACCT_OUTPUT_GIGAWORDS) or 0,
        terminate_cause=(
            None if cause is None else (cause_name(cause) or str(int.from_bytes(cause, "big")))[:40]
        ),
    )


def event_time(request: Request, now: datetime) -> datetime:
    """Return when the event happened: now less Acct-Delay-Time, or a plausible Event-Timestamp."""
    delay = timedelta(seconds=request.integer(wire.ACCT_DELAY_TIME) or 0)
    estimate = now - min(delay, MAX_DELAY)
    stamp = request.integer(wire.EVENT_TIMESTAMP)
    if stamp is not None:
        reported = datetime.fromtimestamp(stamp, UTC)
        if abs(reported - estimate) <= EVENT_TIMESTAMP_TOLERANCE and reported <= now:
            return reported
    return estimate

"""Accounting-Request handling: decode into an accounting event for the domain core."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pyrad.packet import AcctPacket

from cautiva.accounting.service import AccountingEvent, AcctStatus
from cautiva.macs import normalise_mac
from radius.attributes import first, integer, text

# Routers without a real-time clock (many MikroTik boards before NTP sync) send nonsense
# Event-Timestamps; only trust one close to our own clock.
EVENT_TIMESTAMP_TOLERANCE = timedelta(minutes=5)
# RFC 2866 section 5.2: Acct-Delay-Time is how long the client has been trying to send.
MAX_DELAY = timedelta(hours=1)

_STATUS = {status.value: status for status in AcctStatus}
# Older dictionaries call Interim-Update "Alive".
_STATUS["Alive"] = AcctStatus.INTERIM


class IgnoredStatus(Exception):
    """An Acct-Status-Type Cautiva does not record (Tunnel-*, Failed): acknowledged only."""


class MalformedAccounting(ValueError):
    """An Accounting-Request missing what RFC 2866 requires; dropped."""


def accounting_event(
    request: AcctPacket, *, point_id: int, source: str, now: datetime
) -> AccountingEvent:
    """Return the accounting event in `request`; raise IgnoredStatus or MalformedAccounting."""
    raw_status = first(request, "Acct-Status-Type")
    if raw_status is None:
        raise MalformedAccounting("no Acct-Status-Type")
    status = _STATUS.get(str(raw_status))
    if status is None:
        raise IgnoredStatus(str(raw_status))
    session_id = text(request, "Acct-Session-Id") or ""
    if status not in (AcctStatus.ON, AcctStatus.OFF) and not session_id:
        raise MalformedAccounting("no Acct-Session-Id")
    session_time = first(request, "Acct-Session-Time")
    framed_ip = first(request, "Framed-IP-Address")
    terminate = first(request, "Acct-Terminate-Cause")
    return AccountingEvent(
        point_id=point_id,
        status=status,
        event_time=event_time(request, now),
        username=(text(request, "User-Name") or "")[:253],
        acct_session_id=session_id[:253],
        mac=normalise_mac(text(request, "Calling-Station-Id")),
        framed_ip=str(framed_ip) if framed_ip is not None else None,
        nas_address=source,
        session_time=int(session_time) if session_time is not None else None,
        input_octets=integer(request, "Acct-Input-Octets"),
        output_octets=integer(request, "Acct-Output-Octets"),
        input_gigawords=integer(request, "Acct-Input-Gigawords"),
        output_gigawords=integer(request, "Acct-Output-Gigawords"),
        terminate_cause=str(terminate)[:40] if terminate is not None else None,
    )


def event_time(request: AcctPacket, now: datetime) -> datetime:
    """Return when the event happened: now less Acct-Delay-Time, or a plausible Event-Timestamp."""
    delay = timedelta(seconds=integer(request, "Acct-Delay-Time"))
    estimate = now - min(delay, MAX_DELAY)
    stamp = first(request, "Event-Timestamp")
    if isinstance(stamp, int):
        reported = datetime.fromtimestamp(stamp, UTC)
        if abs(reported - estimate) <= EVENT_TIMESTAMP_TOLERANCE and reported <= now:
            return reported
    return estimate

"""The session policy: who may connect, for how long, and with which reply attributes.

Pure functions over plain values, so the RADIUS edge, the admin and the tests all ask the same
question the same way. Nothing here touches the database, the clock or the network.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from cautiva.models.points import NasType

ReplyValue = str | int


class RejectReason(StrEnum):
    """Why a login is refused; the value is the Reply-Message the router shows."""

    UNKNOWN_CREDENTIAL = "Unknown or mistyped credential: please go through the portal again."
    POINT_RETIRED = "This Wi-Fi point is closed."
    WRONG_POINT = "This credential belongs to another Wi-Fi point."
    WRONG_DEVICE = "This credential belongs to another device."
    REVOKED = "This credential was withdrawn."
    LOGIN_EXPIRED = "This credential expired before use: please go through the portal again."
    GRANT_EXPIRED = "This credential has expired: please go through the portal again."
    TIME_USED = "Your free hour for this session is used up."


@dataclass(frozen=True, slots=True)
class SessionRules:
    """The operator's rules for one free session."""

    limit: int = 3600
    idle_timeout: int = 600
    interim_interval: int = 300
    grant_max_age: int = 86400
    overrun_grace: int = 60
    rate_down_kbps: int = 2048
    rate_up_kbps: int = 1024


@dataclass(frozen=True, slots=True)
class PointView:
    """What the policy needs to know about a point."""

    id: int
    nas_type: NasType
    active: bool
    rate_down_kbps: int | None = None
    rate_up_kbps: int | None = None


@dataclass(frozen=True, slots=True)
class GrantView:
    """What the policy needs to know about a grant."""

    id: int
    point_id: int
    mac: str | None
    seconds_allowed: int
    login_deadline: datetime
    first_login_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SessionUsage:
    """One accounted session of a grant: time the router reported and whether it still runs."""

    session_time: int
    updated_at: datetime
    stopped: bool


@dataclass(frozen=True, slots=True)
class Accept:
    """Let the device in for `session_timeout` seconds with these reply attributes."""

    session_timeout: int
    reply: tuple[tuple[str, ReplyValue], ...]
    bind_mac: bool
    first_login: bool


@dataclass(frozen=True, slots=True)
class Reject:
    """Keep the device out, saying why."""

    reason: RejectReason

    @property
    def message(self) -> str:
        """The Reply-Message for the router's login page."""
        return self.reason.value


Decision = Accept | Reject


def used_seconds(sessions: Iterable[SessionUsage], now: datetime) -> int:
    """Return the time a grant has used, counting sessions in progress up to `now`."""
    total = 0
    for usage in sessions:
        total += max(usage.session_time, 0)
        if not usage.stopped:
            total += max(int((now - usage.updated_at).total_seconds()), 0)
    return total


def seconds_left(grant: GrantView, used: int, rules: SessionRules) -> int:
    """Return how many seconds the grant still allows, never more than the session limit."""
    return max(min(grant.seconds_allowed, rules.limit) - used, 0)


def decide(
    *,
    grant: GrantView | None,
    point: PointView,
    mac: str | None,
    used: int,
    now: datetime,
    rules: SessionRules,
) -> Decision:
    """Decide an Access-Request for `grant` at `point` from device `mac` after `used` seconds."""
    if not point.active:
        return Reject(RejectReason.POINT_RETIRED)
    if grant is None:
        return Reject(RejectReason.UNKNOWN_CREDENTIAL)
    if grant.point_id != point.id:
        return Reject(RejectReason.WRONG_POINT)
    if grant.revoked_at is not None:
        return Reject(RejectReason.REVOKED)
    if grant.mac is not None and mac != grant.mac:
        return Reject(RejectReason.WRONG_DEVICE)
    first_login = grant.first_login_at is None
    if first_login and now > grant.login_deadline:
        return Reject(RejectReason.LOGIN_EXPIRED)
    if grant.first_login_at is not None and now > grant.first_login_at + timedelta(
        seconds=rules.grant_max_age
    ):
        return Reject(RejectReason.GRANT_EXPIRED)
    left = seconds_left(grant, used, rules)
    if left <= 0:
        return Reject(RejectReason.TIME_USED)
    return Accept(
        session_timeout=left,
        reply=reply_attributes(point=point, session_timeout=left, grant_id=grant.id, rules=rules),
        bind_mac=grant.mac is None and mac is not None,
        first_login=first_login,
    )


def reply_attributes(
    *, point: PointView, session_timeout: int, grant_id: int, rules: SessionRules
) -> tuple[tuple[str, ReplyValue], ...]:
    """Return the Access-Accept attributes for the point's router type, by dictionary name."""
    down = point.rate_down_kbps if point.rate_down_kbps is not None else rules.rate_down_kbps
    up = point.rate_up_kbps if point.rate_up_kbps is not None else rules.rate_up_kbps
    attributes: list[tuple[str, ReplyValue]] = [
        ("Session-Timeout", session_timeout),
        ("Idle-Timeout", rules.idle_timeout),
        ("Acct-Interim-Interval", rules.interim_interval),
        # RFC 2865 section 5.25: the router echoes Class in accounting; it names the grant.
        ("Class", f"cautiva:grant:{grant_id}"),
    ]
    if down or up:
        attributes.extend(bandwidth_attributes(point.nas_type, down_kbps=down, up_kbps=up))
    return tuple(attributes)


def bandwidth_attributes(
    nas_type: NasType, *, down_kbps: int, up_kbps: int
) -> list[tuple[str, ReplyValue]]:
    """Return the vendor attributes that cap a user's bandwidth on this router type."""
    if nas_type is NasType.MIKROTIK:
        # RouterOS reads rx/tx from the router's side: rx is what the client uploads.
        return [("Mikrotik-Rate-Limit", f"{up_kbps}k/{down_kbps}k")]
    wispr: list[tuple[str, ReplyValue]] = [
        ("WISPr-Bandwidth-Max-Up", up_kbps * 1000),
        ("WISPr-Bandwidth-Max-Down", down_kbps * 1000),
    ]
    if nas_type is NasType.CHILLI:
        # CoovaChilli honours both sets; ChilliSpot's are in kbit/s, WISPr's in bit/s.
        return [
            ("ChilliSpot-Bandwidth-Max-Up", up_kbps),
            ("ChilliSpot-Bandwidth-Max-Down", down_kbps),
            *wispr,
        ]
    return wispr


def overrun(*, grant: GrantView, used: int, rules: SessionRules) -> bool:
    """Return True when a grant's sessions ran past their time by more than the grace period."""
    return used > min(grant.seconds_allowed, rules.limit) + rules.overrun_grace

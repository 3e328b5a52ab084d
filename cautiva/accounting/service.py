"""Recording accounting (RFC 2866) idempotently, closing stale sessions, finding overruns.

Routers retransmit, reorder and lose packets: every event is applied so that replaying it, or
receiving it late, leaves the same record. Counters only grow; a Stop is final unless the
session had been closed as stale by us and the router proves it is still running.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.accounting.repository import AccountingRepository, SessionKey, SessionState
from cautiva.errors import NotFound
from cautiva.grants.repository import GrantRepository
from cautiva.grants.service import grant_view
from cautiva.models import AccountingSession, Disconnect
from cautiva.policy import GrantView, SessionRules, overrun, used_seconds

STALE_CAUSE = "Stale"
NAS_RESTART_CAUSE = "NAS-Reboot"
# Do not ask a router twice within this time to cut the same session.
DISCONNECT_BACKOFF = timedelta(seconds=60)


class AcctStatus(StrEnum):
    """Acct-Status-Type values Cautiva acts on (RFC 2866 section 5.1)."""

    START = "Start"
    STOP = "Stop"
    INTERIM = "Interim-Update"
    ON = "Accounting-On"
    OFF = "Accounting-Off"


@dataclass(frozen=True, slots=True)
class AccountingEvent:
    """One Accounting-Request, already decoded and checked by the edge."""

    point_id: int
    status: AcctStatus
    event_time: datetime
    username: str = ""
    acct_session_id: str = ""
    mac: str | None = None
    framed_ip: str | None = None
    nas_address: str | None = None
    session_time: int | None = None
    input_octets: int = 0
    output_octets: int = 0
    input_gigawords: int = 0
    output_gigawords: int = 0
    terminate_cause: str | None = None
    interim_interval: int | None = None

    @property
    def key(self) -> tuple[int, str, str]:
        """The session this event belongs to."""
        return (self.point_id, self.acct_session_id, self.username)


@dataclass(frozen=True, slots=True)
class DisconnectTarget:
    """A session to cut, with what a Disconnect-Request must name (RFC 5176 section 3)."""

    session_id: int
    point_id: int
    username: str
    acct_session_id: str
    mac: str | None
    framed_ip: str | None
    nas_address: str | None
    reason: str = "overrun"


@dataclass(slots=True)
class AccountingOutcome:
    """What recording a batch found: sessions to disconnect and sessions closed."""

    overruns: list[DisconnectTarget] = field(default_factory=list)
    closed: int = 0


def _combine(gigawords: int, octets: int) -> int:
    return (gigawords << 32) + octets


def _apply(row: SessionState, event: AccountingEvent) -> None:
    """Merge one event into its session row so that order and repetition do not matter."""
    if event.session_time is not None and event.session_time > row.session_time:
        row.session_time = event.session_time
    if _combine(event.input_gigawords, event.input_octets) > row.input_bytes:
        row.input_gigawords, row.input_octets = event.input_gigawords, event.input_octets
    if _combine(event.output_gigawords, event.output_octets) > row.output_bytes:
        row.output_gigawords, row.output_octets = event.output_gigawords, event.output_octets
    row.mac = row.mac or event.mac
    row.framed_ip = event.framed_ip or row.framed_ip
    row.nas_address = event.nas_address or row.nas_address
    if event.interim_interval:
        row.interim_interval = event.interim_interval
    started = event.event_time - timedelta(seconds=event.session_time or 0)
    if event.status is AcctStatus.START or row.started_at is None:
        row.started_at = started if row.started_at is None else min(row.started_at, started)
    if event.event_time > row.updated_at:
        row.updated_at = event.event_time
    if event.status is AcctStatus.STOP:
        if row.stopped_at is None or row.terminate_cause == STALE_CAUSE:
            row.stopped_at = event.event_time
            row.terminate_cause = event.terminate_cause or "Unknown"
    elif (
        row.terminate_cause == STALE_CAUSE
        and row.stopped_at is not None
        and event.event_time > row.stopped_at
    ):
        # We had given up on it, but the router still reports it running.
        row.stopped_at = None
        row.terminate_cause = None


async def record_many(
    session: AsyncSession,
    *,
    events: Sequence[AccountingEvent],
    now: datetime,
    rules: SessionRules,
) -> AccountingOutcome:
    """Apply a batch of accounting events in order; return overrunning sessions to cut."""
    repository = AccountingRepository(session)
    outcome = AccountingOutcome()
    session_events = [event for event in events if event.acct_session_id]
    states = await repository.session_states({event.key for event in session_events})
    grants = await GrantRepository(session).grant_views(
        {event.username for event in session_events}
    )
    new: dict[SessionKey, SessionState] = {}
    changed: dict[SessionKey, SessionState] = {}
    for event in events:
        if event.status in (AcctStatus.ON, AcctStatus.OFF):
            # RFC 2866 section 5.1: the router (re)started; its earlier sessions are over.
            await _write(repository, new, changed)
            outcome.closed += await repository.close_open_sessions(
                point_id=event.point_id,
                before=event.event_time,
                at=event.event_time,
                cause=NAS_RESTART_CAUSE,
            )
            _close_in_memory(states.values(), event)
            continue
        if not event.acct_session_id:
            continue
        state = states.get(event.key)
        if state is None:
            grant = grants.get(event.username)
            state = SessionState(
                point_id=event.point_id,
                username=event.username,
                acct_session_id=event.acct_session_id,
                updated_at=event.event_time,
                grant_id=grant.id if grant is not None else None,
            )
            states[event.key] = new[event.key] = state
        elif event.key not in new:
            changed[event.key] = state
        _apply(state, event)
    touched = [*new.values(), *changed.values()]
    await _write(repository, new, changed)
    outcome.overruns = await _overruns(
        repository,
        [state for state in touched if state.stopped_at is None and state.grant_id is not None],
        {grant.id: grant for grant in grants.values()},
        now=now,
        rules=rules,
    )
    return outcome


async def _write(
    repository: AccountingRepository,
    new: dict[SessionKey, SessionState],
    changed: dict[SessionKey, SessionState],
) -> None:
    """Send pending inserts and updates, then start collecting afresh."""
    await repository.insert_states(list(new.values()))
    await repository.update_states(list(changed.values()))
    new.clear()
    changed.clear()


def _close_in_memory(states: Iterable[SessionState], event: AccountingEvent) -> None:
    """Mirror an Accounting-On/Off closure on the states already read."""
    for state in states:
        if (
            state.point_id == event.point_id
            and state.stopped_at is None
            and (state.started_at is None or state.started_at <= event.event_time)
        ):
            state.stopped_at = event.event_time
            state.terminate_cause = NAS_RESTART_CAUSE


async def _overruns(
    repository: AccountingRepository,
    candidates: Sequence[SessionState | AccountingSession],
    grants: dict[int, GrantView],
    *,
    now: datetime,
    rules: SessionRules,
) -> list[DisconnectTarget]:
    """Return those open sessions whose grant has run past its time, unless recently cut."""
    grant_ids = {row.grant_id for row in candidates if row.grant_id is not None}
    if not grant_ids:
        return []
    # Stopped sessions of the grant count too, not only the ones in this batch.
    usage = await GrantRepository(repository.session).usage_by_grant(grant_ids)
    over = [
        row
        for row in candidates
        if row.grant_id in grants
        and overrun(
            grant=grants[row.grant_id],
            used=used_seconds(usage[row.grant_id], now),
            rules=rules,
        )
    ]
    recent = await repository.recently_disconnected(
        session_ids={row.id for row in over if row.id is not None}, since=now - DISCONNECT_BACKOFF
    )
    return [_target(row) for row in over if row.id not in recent]


def _target(row: SessionState | AccountingSession, reason: str = "overrun") -> DisconnectTarget:
    assert row.id is not None
    return DisconnectTarget(
        session_id=row.id,
        point_id=row.point_id,
        username=row.username,
        acct_session_id=row.acct_session_id,
        mac=row.mac,
        framed_ip=row.framed_ip,
        nas_address=row.nas_address,
        reason=reason,
    )


async def sweep(
    session: AsyncSession, *, now: datetime, rules: SessionRules, stale_intervals: float
) -> AccountingOutcome:
    """Close sessions silent for too long and return open sessions that overran their time."""
    repository = AccountingRepository(session)
    outcome = AccountingOutcome()
    still_open: list[AccountingSession] = []
    for row in await repository.open_sessions():
        interval = row.interim_interval or rules.interim_interval
        if now - row.updated_at > timedelta(seconds=interval * stale_intervals):
            row.stopped_at = row.updated_at
            row.terminate_cause = STALE_CAUSE
            outcome.closed += 1
        elif row.grant_id is not None:
            still_open.append(row)
    await repository.flush()
    grants = await repository.grants({row.grant_id for row in still_open if row.grant_id})
    views = {grant_id: grant_view(grant) for grant_id, grant in grants.items()}
    outcome.overruns = await _overruns(repository, still_open, views, now=now, rules=rules)
    return outcome


async def disconnect_target(session: AsyncSession, *, session_id: int) -> DisconnectTarget:
    """Return what is needed to cut session `session_id` by hand, else raise NotFound."""
    row = await AccountingRepository(session).get_session(session_id)
    if row is None:
        raise NotFound(f"no session with id {session_id}")
    return _target(row, reason="admin")


async def start_disconnect(
    session: AsyncSession, *, target: DisconnectTarget, now: datetime
) -> int:
    """Record that a Disconnect-Request is about to be sent; return the record's id."""
    disconnect = Disconnect(
        session_id=target.session_id,
        reason=target.reason,
        requested_at=now,
        result="pending",
        attempts=0,
    )
    return (await AccountingRepository(session).add_disconnect(disconnect)).id


async def finish_disconnect(
    session: AsyncSession,
    *,
    disconnect_id: int,
    result: str,
    attempts: int,
    error_cause: int | None,
    now: datetime,
) -> None:
    """Record how the router answered a Disconnect-Request."""
    disconnect = await AccountingRepository(session).get_disconnect(disconnect_id)
    if disconnect is None:
        raise NotFound(f"no disconnect with id {disconnect_id}")
    disconnect.result = result
    disconnect.attempts = attempts
    disconnect.error_cause = error_cause
    disconnect.answered_at = now if result in ("ack", "nak") else None
    await session.flush()


async def list_sessions(
    session: AsyncSession, *, point_id: int, open_only: bool = True, limit: int = 100
) -> Sequence[AccountingSession]:
    """Return a point's sessions, newest first."""
    return await AccountingRepository(session).sessions_of_point(
        point_id=point_id, open_only=open_only, limit=limit
    )

"""Purging raw records older than the operator's period while every figure stays as it was.

The horizon is a UTC day: everything counted before it goes. The unit of the purge is one point
on one day (a "pair"): its service figures are written to `service_days` (counted with
`raw_service_days`, the definition the dashboards read) and, in the same transaction, its
stopped sessions and the grants first used on it are deleted. A pair is stored and deleted
whole or not at all, so no day is ever counted twice (raw and stored) nor lost.

A pair stays raw, whole, when part of it must stay: an open session (never deleted: the router
may still be using it), or a grant still of use (its login window open, or young enough to
reconnect with) or in use (a session that stays refers to it). A session that stays keeps its
grant, whose pair then stays too; this is followed until nothing changes. A later purge takes
these pairs once they are free.

Grants never used go once their login window is over. Responses stay (the survey data), but
lose their person key and device MAC: anonymous once unlinked. Grants that stay lose their
person key too (nothing reads it after the survey). Portal counters, seen hours, alerts and
the staff audit log are not records of migrants and stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.analytics.service_days import DayFigures, raw_service_days
from cautiva.errors import InvalidInput
from cautiva.retention.repository import Pair, RetentionRepository

BATCH = 5000
"""Rows unlinked or deleted per statement where no day splits the work."""
_FIRST = datetime(1900, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class DayToPurge:
    """One UTC day and the points whose records of that day go."""

    day: date
    point_ids: tuple[int, ...]

    @property
    def start(self) -> datetime:
        """The first instant of the day."""
        return datetime.combine(self.day, time.min, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the day."""
        return self.start + timedelta(days=1)


@dataclass(frozen=True, slots=True)
class PurgePlan:
    """What a purge up to `horizon` (excluded) deletes, unlinks and keeps."""

    horizon: date
    days: tuple[DayToPurge, ...]
    service_days: int
    sessions: int
    logins: int
    unused_grants: int
    responses: int
    open_sessions: int
    kept_days: int
    kept_sessions: int
    kept_grants: int

    def counts(self) -> dict[str, int]:
        """The plan as named counts, for people and scripts."""
        return {
            "service_days_to_write": self.service_days,
            "sessions_to_delete": self.sessions,
            "grants_to_delete": self.logins + self.unused_grants,
            "responses_to_unlink": self.responses,
            "open_sessions_kept": self.open_sessions,
            "point_days_kept_raw": self.kept_days,
            "sessions_kept_with_them": self.kept_sessions,
            "old_grants_kept": self.kept_grants,
        }


@dataclass(frozen=True, slots=True)
class DayPurged:
    """What purging one day did."""

    service_days: int
    sessions: int
    grants: int


def horizon_start(horizon: date) -> datetime:
    """The first instant that a purge up to `horizon` keeps."""
    return datetime.combine(horizon, time.min, tzinfo=UTC)


def retention_horizon(*, today: date, days: int) -> date:
    """The horizon that keeps the last `days` days before `today`, and today."""
    if days < 1:
        raise InvalidInput("a retention period is at least one day")
    return today - timedelta(days=days)


def check_horizon(horizon: date, *, today: date) -> None:
    """Refuse a horizon after today: the future holds nothing to purge, only live records."""
    if horizon > today:
        raise InvalidInput(f"the purge horizon {horizon} is after today ({today})")


def _kept_pairs(
    busy: set[Pair], links: list[tuple[Pair, Pair]], candidates: set[Pair]
) -> set[Pair]:
    kept = busy & candidates
    changed = True
    while changed:
        changed = False
        for session_pair, login_pair in links:
            # A session that stays keeps its grant, and so the pair its login counts on.
            if session_pair in kept and login_pair not in kept:
                kept.add(login_pair)
                changed = True
    return kept & candidates


async def plan_purge(
    session: AsyncSession, *, horizon: date, now: datetime, grant_max_age: int
) -> PurgePlan:
    """Work out what a purge up to `horizon` would do, changing nothing.

    `grant_max_age` is how long a used grant may reconnect (CAUTIVA_SESSION_GRANT_MAX_AGE).
    """
    before = horizon_start(horizon)
    reusable_since = now - timedelta(seconds=grant_max_age)
    repository = RetentionRepository(session)
    figures = {
        (f.day, f.point_id): f for f in await raw_service_days(session, start=_FIRST, end=before)
    }
    open_sessions = await repository.open_sessions(start=None, end=before)
    busy = set(open_sessions) | await repository.busy_login_pairs(
        before=before, now=now, reusable_since=reusable_since
    )
    kept = _kept_pairs(busy, await repository.links(before=before), set(figures))
    purged = sorted(pair for pair in figures if pair not in kept)
    days: dict[date, list[int]] = {}
    for day, point_id in purged:
        days.setdefault(day, []).append(point_id)
    logins = sum(figures[pair].logins for pair in purged)
    unused = await repository.count_unused_grants(before=before, now=now)
    old_grants = await repository.count_old_grants(before=before)
    return PurgePlan(
        horizon=horizon,
        days=tuple(DayToPurge(day, tuple(points)) for day, points in days.items()),
        service_days=len(purged),
        sessions=sum(figures[pair].sessions for pair in purged),
        logins=logins,
        unused_grants=unused,
        responses=await repository.count_linked_responses(before=before),
        open_sessions=sum(open_sessions.values()),
        kept_days=len(kept),
        kept_sessions=sum(figures[pair].sessions for pair in kept) - sum(open_sessions.values()),
        kept_grants=max(0, old_grants - logins - unused),
    )


async def purge_day(
    session: AsyncSession, *, day: DayToPurge, now: datetime, grant_max_age: int
) -> DayPurged:
    """Store one day's figures for its points and delete their sessions and grants."""
    repository = RetentionRepository(session)
    # Counted again inside this transaction: what is stored is exactly what is deleted. A
    # session opened since the plan (a late Accounting-Start) keeps its point's day raw.
    opened = await repository.open_sessions(start=day.start, end=day.end)
    point_ids = [p for p in day.point_ids if (day.day, p) not in opened]
    if not point_ids:
        return DayPurged(service_days=0, sessions=0, grants=0)
    figures: list[DayFigures] = await raw_service_days(
        session, start=day.start, end=day.end, point_ids=point_ids
    )
    await repository.add_service_days(figures)
    sessions = await repository.delete_sessions(start=day.start, end=day.end, point_ids=point_ids)
    grants = await repository.delete_logins(
        start=day.start,
        end=day.end,
        point_ids=point_ids,
        now=now,
        reusable_since=now - timedelta(seconds=grant_max_age),
    )
    return DayPurged(service_days=len(figures), sessions=sessions, grants=grants)


async def delete_unused_grants(
    session: AsyncSession, *, horizon: date, now: datetime, limit: int = BATCH
) -> int:
    """Delete up to `limit` grants issued before `horizon` and never used; return how many."""
    return await RetentionRepository(session).delete_unused_grants(
        before=horizon_start(horizon), now=now, limit=limit
    )


async def unlink_responses(session: AsyncSession, *, horizon: date, limit: int = BATCH) -> int:
    """Drop the person key and MAC of up to `limit` responses from before `horizon`."""
    return await RetentionRepository(session).unlink_responses(
        before=horizon_start(horizon), limit=limit
    )


async def drop_grant_keys(session: AsyncSession, *, horizon: date) -> int:
    """Forget the person key of the grants from before `horizon` that stay."""
    return await RetentionRepository(session).drop_grant_keys(before=horizon_start(horizon))

"""Counting the steps people take through the splash portal, per point and day.

Only counts are kept: no email, device, address or time of day, so the funnel (how many open
the splash page, consent, finish the survey, see the message, get sent to the router's login)
can be shown and shared without identifying anyone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.funnel.repository import PortalCounterRepository


class Event(StrEnum):
    """A step of the splash portal, in the order people go through it (under_age ends it)."""

    SPLASH_OPENED = "splash_opened"
    CONSENT = "consent"
    SURVEY_DONE = "survey_done"
    MESSAGE_SHOWN = "message_shown"
    LOGIN_SENT = "login_sent"
    UNDER_AGE = "under_age"
    VIDEO_STARTED = "video_started"
    VIDEO_FINISHED = "video_finished"


def check_event(event: str) -> Event:
    """Return `event` as an Event, else raise ValueError."""
    try:
        return Event(event)
    except ValueError:
        known = ", ".join(e.value for e in Event)
        raise ValueError(f"unknown portal event {event!r}: use one of {known}") from None


async def count_event(session: AsyncSession, *, point_id: int, event: str, now: datetime) -> None:
    """Add one to `event` at a point on `now`'s date (in `now`'s own timezone; utcnow: UTC days).

    One atomic statement, safe under concurrent requests. Each increment holds the counter's
    row lock until the transaction ends: count in a short transaction, or last in a long one.
    """
    checked = check_event(event)
    if now.tzinfo is None:
        raise ValueError("count_event needs a timezone-aware `now`")
    await PortalCounterRepository(session).increment(
        day=now.date(), point_id=point_id, event=checked.value
    )


async def event_counts(
    session: AsyncSession, *, point_id: int | None, since: date, until: date
) -> dict[str, int]:
    """Return every event's total from `since` to `until` (both included) at a point or all (None).

    Events that did not happen count 0; keys come in funnel order.
    """
    totals = await PortalCounterRepository(session).totals(
        point_id=point_id, since=since, until=until
    )
    return {event.value: totals.get(event.value, 0) for event in Event}


async def add_counts(session: AsyncSession, *, counts: Mapping[tuple[date, int, str], int]) -> None:
    """Add buffered counts `{(day, point_id, event): n}`, in key order (no lock cycles)."""
    repository = PortalCounterRepository(session)
    for (day, point_id, event), by in sorted(counts.items()):
        if by > 0:
            await repository.increment(
                day=day, point_id=point_id, event=check_event(event).value, by=by
            )

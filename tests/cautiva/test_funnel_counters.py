"""Funnel counters on the real database: increments, concurrency, days, refused events."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from cautiva.database import transaction
from cautiva.funnel.service import Event, count_event, event_counts
from cautiva.models import PortalCounter
from cautiva.runtime import Runtime
from factories import create_point

# A day no other test counts on, so totals over every point are exact.
DAY = date(2031, 3, 14)
NOON = datetime(2031, 3, 14, 12, 0, tzinfo=UTC)


async def count(runtime: Runtime, point_id: int, event: str, now: datetime = NOON) -> None:
    """Count one event in a transaction of its own, as the portal does."""
    async with transaction(runtime.sessions) as session:
        await count_event(session, point_id=point_id, event=event, now=now)


async def counts(
    runtime: Runtime, point_id: int | None, since: date = DAY, until: date = DAY
) -> dict[str, int]:
    async with transaction(runtime.sessions) as session:
        return await event_counts(session, point_id=point_id, since=since, until=until)


async def test_events_add_up_per_point(runtime: Runtime) -> None:
    point = await create_point(runtime)
    other = await create_point(runtime)
    for event in ("splash_opened", "splash_opened", "consent", Event.SPLASH_OPENED):
        await count(runtime, point.id, event)
    await count(runtime, other.id, "under_age")

    assert await counts(runtime, point.id) == {
        "splash_opened": 3,
        "consent": 1,
        "survey_done": 0,
        "message_shown": 0,
        "login_sent": 0,
        "under_age": 0,
        "video_started": 0,
        "video_finished": 0,
    }
    assert list(await counts(runtime, point.id)) == [e.value for e in Event]
    assert (await counts(runtime, other.id))["under_age"] == 1
    # Only counts are stored: one row per point, day and event.
    async with transaction(runtime.sessions) as session:
        rows = (
            await session.execute(
                select(PortalCounter.day, PortalCounter.event, PortalCounter.count)
                .where(PortalCounter.point_id == point.id)
                .order_by(PortalCounter.event)
            )
        ).all()
    assert [tuple(row) for row in rows] == [(DAY, "consent", 1), (DAY, "splash_opened", 3)]


async def test_totals_over_every_point(runtime: Runtime) -> None:
    day = DAY + timedelta(days=100)
    now = datetime.combine(day, datetime.min.time(), UTC)
    before = await counts(runtime, None, day, day)
    for _ in range(2):
        await count(runtime, (await create_point(runtime)).id, "login_sent", now)
    after = await counts(runtime, None, day, day)
    assert after["login_sent"] == before["login_sent"] + 2
    assert {k: v for k, v in after.items() if k != "login_sent"} == {
        k: v for k, v in before.items() if k != "login_sent"
    }


async def test_each_day_is_counted_apart(runtime: Runtime) -> None:
    point = await create_point(runtime)
    late = datetime(2031, 3, 14, 23, 59, 59, tzinfo=UTC)
    await count(runtime, point.id, "survey_done", late)
    await count(runtime, point.id, "survey_done", late + timedelta(seconds=1))
    await count(runtime, point.id, "survey_done", late + timedelta(days=2))

    async def done(first: int, last: int) -> int:
        since, until = DAY + timedelta(days=first), DAY + timedelta(days=last)
        return (await counts(runtime, point.id, since, until))["survey_done"]

    assert [await done(0, 0), await done(1, 1), await done(2, 2)] == [1, 1, 1]
    assert [await done(0, 1), await done(0, 2), await done(-9, -1), await done(3, 9)] == [
        2,
        3,
        0,
        0,
    ]


async def test_the_day_is_the_date_in_the_timezone_of_now(runtime: Runtime) -> None:
    point = await create_point(runtime)
    # 20:00 in Bogotá (UTC-5) is already the next day in UTC.
    bogota = timezone(timedelta(hours=-5))
    await count(runtime, point.id, "message_shown", datetime(2031, 3, 14, 20, 0, tzinfo=bogota))
    assert (await counts(runtime, point.id))["message_shown"] == 1


async def test_concurrent_increments_from_many_sessions_all_count(runtime: Runtime) -> None:
    point = await create_point(runtime)
    # Every increment races for a counter that does not exist yet, then for its row lock.
    await asyncio.gather(*(count(runtime, point.id, "splash_opened") for _ in range(40)))
    await asyncio.gather(
        *(count(runtime, point.id, event) for event in ("consent", "under_age") * 10)
    )
    totals = await counts(runtime, point.id)
    assert (totals["splash_opened"], totals["consent"], totals["under_age"]) == (40, 10, 10)


@pytest.mark.parametrize("event", ["opened", "SPLASH_OPENED", "", "splash_opened "])
async def test_unknown_events_are_refused(runtime: Runtime, event: str) -> None:
    point = await create_point(runtime)
    with pytest.raises(ValueError, match="unknown portal event"):
        await count(runtime, point.id, event)
    assert set((await counts(runtime, point.id)).values()) == {0}


async def test_a_time_without_a_timezone_is_refused(runtime: Runtime) -> None:
    point = await create_point(runtime)
    with pytest.raises(ValueError, match="timezone-aware"):
        await count(runtime, point.id, "consent", datetime(2031, 3, 14, 12, 0))

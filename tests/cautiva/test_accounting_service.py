"""Accounting rules on the real database: idempotence, order, stale sessions, overruns."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from cautiva.accounting.service import (
    NAS_RESTART_CAUSE,
    STALE_CAUSE,
    AccountingEvent,
    AcctStatus,
    record_many,
    sweep,
)
from cautiva.database import transaction
from cautiva.models import AccountingSession, Point, utcnow
from cautiva.runtime import Runtime
from factories import create_point, issue


def event(
    point: Point,
    status: AcctStatus,
    when: datetime,
    session_id: str = "s-1",
    user: str = "someone",
    **values: int,
) -> AccountingEvent:
    """An accounting event for `point` at `when`."""
    return AccountingEvent(
        point_id=point.id,
        status=status,
        event_time=when,
        username=user,
        acct_session_id=session_id,
        nas_address="127.0.0.1",
        **values,
    )


async def record(runtime: Runtime, *events: AccountingEvent, now: datetime | None = None):  # type: ignore[no-untyped-def]
    """Record events in one transaction, as the RADIUS edge does."""
    async with transaction(runtime.sessions) as db:
        return await record_many(db, events=events, now=now or utcnow(), rules=runtime.rules)


async def rows(runtime: Runtime, point: Point) -> list[AccountingSession]:
    """Every session of `point`."""
    async with transaction(runtime.sessions) as db:
        result = await db.execute(
            select(AccountingSession)
            .where(AccountingSession.point_id == point.id)
            .order_by(AccountingSession.id)
        )
        return list(result.scalars())


async def test_replays_and_reordering_leave_the_same_record(runtime: Runtime) -> None:
    point = await create_point(runtime)
    t0 = utcnow() - timedelta(minutes=20)
    start = event(point, AcctStatus.START, t0)
    interim = event(
        point,
        AcctStatus.INTERIM,
        t0 + timedelta(minutes=5),
        session_time=300,
        input_octets=10,
        output_octets=20,
    )
    stop = event(
        point,
        AcctStatus.STOP,
        t0 + timedelta(minutes=10),
        session_time=600,
        input_octets=30,
        output_octets=40,
        output_gigawords=1,
    )
    await record(runtime, stop, interim)
    await record(runtime, start, start, interim)
    await record(runtime, stop)
    (row,) = await rows(runtime, point)
    assert row.started_at == t0
    assert row.stopped_at == t0 + timedelta(minutes=10)
    assert (row.session_time, row.input_bytes, row.output_bytes) == (600, 30, (1 << 32) + 40)


async def test_accounting_on_closes_only_that_points_older_sessions(runtime: Runtime) -> None:
    point, other = await create_point(runtime), await create_point(runtime)
    t0 = utcnow() - timedelta(minutes=5)
    await record(
        runtime, event(point, AcctStatus.START, t0, "a"), event(other, AcctStatus.START, t0, "b")
    )
    outcome = await record(
        runtime,
        AccountingEvent(
            point_id=point.id, status=AcctStatus.ON, event_time=t0 + timedelta(minutes=1)
        ),
    )
    assert outcome.closed == 1
    (closed,) = await rows(runtime, point)
    (still_open,) = await rows(runtime, other)
    assert closed.terminate_cause == NAS_RESTART_CAUSE and closed.stopped_at is not None
    assert still_open.stopped_at is None


async def test_sweep_closes_silent_sessions_and_a_late_interim_reopens_them(
    runtime: Runtime,
) -> None:
    point = await create_point(runtime)
    t0 = utcnow()
    await record(runtime, event(point, AcctStatus.START, t0, "quiet"))
    interval = runtime.rules.interim_interval
    early = t0 + timedelta(seconds=interval * 2)
    async with transaction(runtime.sessions) as db:
        await sweep(db, now=early, rules=runtime.rules, stale_intervals=2.5)
    (row,) = await rows(runtime, point)
    assert row.stopped_at is None, "two silent intervals are not yet stale"
    late = t0 + timedelta(seconds=interval * 2.5 + 1)
    async with transaction(runtime.sessions) as db:
        assert (await sweep(db, now=late, rules=runtime.rules, stale_intervals=2.5)).closed >= 1
    (row,) = await rows(runtime, point)
    assert row.terminate_cause == STALE_CAUSE and row.stopped_at == t0
    await record(
        runtime,
        event(
            point,
            AcctStatus.INTERIM,
            late + timedelta(seconds=5),
            "quiet",
            session_time=int(interval * 2.5) + 5,
        ),
        now=late,
    )
    (row,) = await rows(runtime, point)
    assert row.stopped_at is None and row.terminate_cause is None


async def test_overrun_is_found_by_accounting_and_by_the_sweep(runtime: Runtime) -> None:
    point = await create_point(runtime)
    grant = await issue(runtime, point)
    now = utcnow()
    first = await record(
        runtime,
        event(
            point,
            AcctStatus.STOP,
            now - timedelta(minutes=30),
            "a",
            grant.username,
            session_time=1800,
        ),
    )
    assert first.overruns == []
    within = await record(
        runtime,
        event(
            point,
            AcctStatus.INTERIM,
            now,
            "b",
            grant.username,
            session_time=1800 + runtime.rules.overrun_grace,
        ),
    )
    assert within.overruns == [], "the grace period is not an overrun"
    over = await record(
        runtime,
        event(
            point,
            AcctStatus.INTERIM,
            now,
            "b",
            grant.username,
            session_time=1800 + runtime.rules.overrun_grace + 5,
        ),
    )
    assert [t.acct_session_id for t in over.overruns] == ["b"]
    target = over.overruns[0]
    assert (target.username, target.framed_ip, target.nas_address) == (
        grant.username,
        None,
        "127.0.0.1",
    )
    # The sweep counts the session in progress: no interim needed to notice it later on.
    async with transaction(runtime.sessions) as db:
        swept = await sweep(
            db, now=now + timedelta(seconds=30), rules=runtime.rules, stale_intervals=2.5
        )
    assert [t.acct_session_id for t in swept.overruns] == ["b"]

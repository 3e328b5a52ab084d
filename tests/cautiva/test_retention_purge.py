"""`cautiva purge`: raw records past the horizon go, every figure and aggregate stays the same.

The purge works on the whole database, which the tests share: each test writes in an era of
its own, long before any other test's data, and first purges everything older than that era
(earlier runs of these tests), so its counts are its own.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from analytics_dataset import AnalyticsDataset, make_dataset
from cli_runner import Cli
from cli_runner import cautiva_env as cautiva_env
from cli_runner import cli as cli
from sqlalchemy import func, select, update
from test_responses_service import new_email, submit

from cautiva.analytics.service_days import raw_service_days, stored_service_days
from cautiva.cli.retention import apply_purge
from cautiva.database import transaction
from cautiva.exports import export_rows
from cautiva.exports.aggregates import Grouping, aggregate_responses
from cautiva.models import AccountingSession, Disconnect, Grant, Point, Response, utcnow
from cautiva.retention.service import PurgePlan, plan_purge
from cautiva.runtime import Runtime
from factories import create_point, full_answers

Figures = dict[tuple[date, int], tuple[int, ...]]


def at(day: date, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=UTC)


async def plan(runtime: Runtime, horizon: date, now: datetime | None = None) -> PurgePlan:
    async with transaction(runtime.sessions) as session:
        return await plan_purge(
            session,
            horizon=horizon,
            now=now or utcnow(),
            grant_max_age=runtime.settings.session.grant_max_age,
        )


async def purge(runtime: Runtime, horizon: date) -> tuple[PurgePlan, dict[str, int]]:
    planned = await plan(runtime, horizon)
    return planned, await apply_purge(runtime, planned, now=utcnow())


async def daily(runtime: Runtime, point_ids: Iterable[int], since: date, until: date) -> Figures:
    """Each (day, point)'s figures as the dashboards read them: raw plus stored."""
    ids = list(point_ids)
    async with runtime.sessions() as db:
        raw = await raw_service_days(
            db, start=at(since), end=at(until + timedelta(days=1)), point_ids=ids
        )
        stored = await stored_service_days(db, since=since, until=until, point_ids=ids)
    summed: dict[tuple[date, int], list[int]] = defaultdict(lambda: [0] * 6)
    for f in (*raw, *stored):
        values = (f.sessions, f.devices, f.seconds, f.input_bytes, f.output_bytes, f.logins)
        summed[(f.day, f.point_id)] = [
            a + b for a, b in zip(summed[(f.day, f.point_id)], values, strict=True)
        ]
    return {key: tuple(values) for key, values in summed.items()}


async def shared_tables(runtime: Runtime, since: date, until: date) -> list[Any]:
    tables = []
    async with transaction(runtime.sessions) as session:
        for grouping in Grouping:
            table = await aggregate_responses(
                session, grouping=grouping, since=since, until=until, point_id=None, threshold=5
            )
            tables.append((table.columns, table.rows))
    return tables


async def exported(runtime: Runtime, point_id: int) -> list[dict[str, Any]]:
    async with transaction(runtime.sessions) as session:
        return [
            row async for row in export_rows(session, since=None, until=None, point_id=point_id)
        ]


async def test_a_purge_keeps_every_figure_and_aggregate(runtime: Runtime) -> None:
    start = date(2003, 1, 6)
    horizon = date(2003, 2, 3)
    await purge(runtime, start)  # earlier eras: only ours
    dataset: AnalyticsDataset = await make_dataset(
        runtime, seed=31, start=start, days=56, people=150
    )
    ids = dataset.point_ids()
    before = await daily(runtime, ids, dataset.since, dataset.until)
    tables = await shared_tables(runtime, dataset.since, dataset.until)
    exports = {point_id: await exported(runtime, point_id) for point_id in ids}

    old = at(horizon)
    old_sessions = [s for s in dataset.sessions if (s.started_at or s.updated_at) < old]
    logins = [g for g in dataset.grants if g.first_login_at and g.first_login_at < old]
    unused = [g for g in dataset.grants if g.first_login_at is None and g.issued_at < old]
    late = [
        g
        for g in dataset.grants
        if g.issued_at < old and g.first_login_at is not None and g.first_login_at >= old
    ]
    pairs = {(s.day, s.point_id) for s in old_sessions}
    pairs |= {(g.first_login_at.date(), g.point_id) for g in logins if g.first_login_at}
    planned = await plan(runtime, horizon)
    assert planned.counts() == {
        "service_days_to_write": len(pairs),
        "sessions_to_delete": len(old_sessions),
        "grants_to_delete": len(logins) + len(unused),
        "responses_to_unlink": sum(1 for r in dataset.responses if r.created_at < old),
        "open_sessions_kept": 0,
        "point_days_kept_raw": 0,
        "sessions_kept_with_them": 0,
        "old_grants_kept": len(late),
    }
    assert len(old_sessions) > 100 and len(pairs) > 50

    done = await apply_purge(runtime, planned, now=utcnow())
    assert done == {
        "service_days_written": len(pairs),
        "sessions_deleted": len(old_sessions),
        "grants_deleted": len(logins) + len(unused),
        "responses_unlinked": planned.responses,
        "grant_keys_dropped": sum(1 for g in late if g.person_key),
    }
    # Every day reads as before, purged or not; so does every shared aggregate.
    assert await daily(runtime, ids, dataset.since, dataset.until) == before
    assert await shared_tables(runtime, dataset.since, dataset.until) == tables

    async with runtime.sessions() as db:
        when = func.coalesce(AccountingSession.started_at, AccountingSession.updated_at)
        left = await db.scalar(
            select(func.count())
            .select_from(AccountingSession)
            .where(AccountingSession.point_id.in_(ids), when < old)
        )
        assert left == 0
        grants = (await db.scalars(select(Grant).where(Grant.point_id.in_(ids)))).all()
        assert {g.username for g in grants if g.issued_at < old} == {g.username for g in late}
        assert all(g.person_key is None for g in grants if g.issued_at < old)
        responses = (await db.scalars(select(Response).where(Response.point_id.in_(ids)))).all()
    assert len(responses) == len(dataset.responses)
    for response in responses:
        if response.created_at < old:
            assert (response.person_key, response.device_mac) == (None, None)
    kept = {
        (r.point_id, r.created_at, r.person_key) for r in dataset.responses if r.created_at >= old
    }
    assert kept <= {(r.point_id, r.created_at, r.person_key) for r in responses}
    assert sorted(json.dumps(r.answers, sort_keys=True) for r in responses) == sorted(
        json.dumps(dict(r.answers), sort_keys=True) for r in dataset.responses
    )

    # The responses export keeps every row; purged ones no longer carry a pseudonym.
    for point_id, rows in exports.items():
        after = await exported(runtime, point_id)
        assert [{**r, "person": None} for r in after] == [{**r, "person": None} for r in rows]
        for was, now in zip(rows, after, strict=True):
            purged = str(was["date"]) < horizon.isoformat()
            assert (now["person"] is None) is (purged or was["person"] is None)

    again = await plan(runtime, horizon)
    assert again.service_days == again.sessions == again.logins == again.responses == 0
    assert again.unused_grants == 0


@dataclass
class Edge:
    """A point with the records that make a purge keep days whole."""

    point: Point
    days: tuple[date, ...]
    sessions: dict[str, int]


async def seed_edges(runtime: Runtime, days: Sequence[date], horizon: date) -> Edge:
    d1, d2, d3, d4, d5 = days
    point = await create_point(runtime)
    ids: dict[str, int] = {}
    async with transaction(runtime.sessions) as db:

        async def grant(name: str, issued: datetime, login: datetime | None) -> Grant:
            row = Grant(
                username=f"{name}{point.nas_id}"[:32],
                point_id=point.id,
                mac="02:00:00:00:70:01",
                person_key=f"{name:>8}".replace(" ", "k") + "0" * 56,
                seconds_allowed=3600,
                issued_at=issued,
                login_deadline=issued + timedelta(minutes=5),
                first_login_at=login,
            )
            db.add(row)
            await db.flush()
            return row

        async def session(name: str, grant: Grant, started: datetime, open_: bool = False) -> None:
            row = AccountingSession(
                point_id=point.id,
                grant_id=grant.id,
                username=grant.username,
                acct_session_id=name,
                mac=f"02:00:00:00:71:{len(ids):02X}",
                framed_ip=f"10.9.0.{len(ids) + 2}",
                started_at=started,
                updated_at=started + timedelta(minutes=10),
                stopped_at=None if open_ else started + timedelta(minutes=10),
                session_time=600,
                input_octets=1000 * (len(ids) + 1),
                output_octets=5000,
            )
            db.add(row)
            await db.flush()
            ids[name] = row.id

        # Day 1: an open session keeps the day raw, with its stopped neighbour.
        await session("s1", await grant("g1", at(d1, 10), at(d1, 10, 1)), at(d1, 10, 1))
        await session("s2", await grant("g2", at(d1, 11), at(d1, 11, 1)), at(d1, 11, 1), True)
        # A login just before midnight on day 2, its session counted on day 3, which an open
        # session keeps: the grant stays, and so day 2 stays whole too.
        g3 = await grant("g3", at(d2, 23, 59, 0), at(d2, 23, 59, 30))
        await session("s3", g3, at(d3, 0, 0, 10))
        await session("s5", await grant("g5", at(d2, 9), at(d2, 9, 1)), at(d2, 9, 1))
        await session("s4", await grant("g4", at(d3, 9), at(d3, 9, 1)), at(d3, 9, 1), True)
        # Day 4 is free: stored, then deleted, with its Disconnect-Request and a grant never used.
        await session("s6", await grant("g6", at(d4, 8), at(d4, 8, 1)), at(d4, 8, 1))
        db.add(Disconnect(session_id=ids["s6"], reason="admin", result="ack"))
        await grant("g7", at(d4, 12), None)
        # Issued before the horizon, used after it: stays, without its person key.
        before = datetime.combine(horizon, time.min, tzinfo=UTC)
        g8 = await grant("g8", before - timedelta(seconds=10), before + timedelta(seconds=20))
        await session("s8", g8, before + timedelta(seconds=20))
        await session("s9", await grant("g9", at(d5, 9), at(d5, 9, 1)), at(d5, 9, 1))
    return Edge(point, tuple(days), ids)


async def test_open_sessions_and_grants_in_use_keep_their_days_whole(runtime: Runtime) -> None:
    days = (date(2002, 3, 4), date(2002, 3, 5), date(2002, 3, 6), date(2002, 3, 7))
    horizon = date(2002, 3, 11)
    await purge(runtime, date(2002, 3, 1))
    edge = await seed_edges(runtime, (*days, date(2002, 3, 12)), horizon)
    answered = await submit(
        runtime, edge.point, email=new_email(), answers=full_answers(), now=at(days[0], 9)
    )
    later = await submit(
        runtime, edge.point, email=new_email(), answers=full_answers(), now=at(date(2002, 3, 12), 9)
    )
    period = (days[0], date(2002, 3, 12))
    before = await daily(runtime, [edge.point.id], *period)

    # Had it run the day after, day 4's grant could still reconnect: the day would stay whole.
    early = await plan(runtime, horizon, now=at(days[3], 20))
    assert (early.kept_days, early.service_days, early.sessions) == (4, 0, 0)

    planned, done = await purge(runtime, horizon)
    assert planned.counts() == {
        "service_days_to_write": 1,
        "sessions_to_delete": 1,
        "grants_to_delete": 3,  # g6, g7 and the survey's grant, never used
        "responses_to_unlink": 1,
        "open_sessions_kept": 2,
        "point_days_kept_raw": 3,
        "sessions_kept_with_them": 3,
        "old_grants_kept": 6,
    }
    assert done == {
        "service_days_written": 1,
        "sessions_deleted": 1,
        "grants_deleted": 3,
        "responses_unlinked": 1,
        "grant_keys_dropped": 6,
    }
    assert await daily(runtime, [edge.point.id], *period) == before
    async with runtime.sessions() as db:
        names = set(
            await db.scalars(
                select(AccountingSession.acct_session_id).where(
                    AccountingSession.point_id == edge.point.id
                )
            )
        )
        assert names == {"s1", "s2", "s3", "s4", "s5", "s8", "s9"}
        gone = (
            select(func.count())
            .select_from(Disconnect)
            .where(Disconnect.session_id == edge.sessions["s6"])
        )
        assert await db.scalar(gone) == 0
        first = await db.get(Response, answered.response_id)
        second = await db.get(Response, later.response_id)
        assert first is not None and second is not None
        assert (first.person_key, first.device_mac) == (None, None)
        assert second.person_key is not None and second.device_mac is not None
        keys = (
            await db.execute(
                select(Grant.username, Grant.person_key).where(Grant.point_id == edge.point.id)
            )
        ).all()
    assert {name[:2] for name, key in keys if key is None} == {"g1", "g2", "g3", "g4", "g5", "g8"}

    # Once the router closes them, the next purge takes the days it had to keep.
    async with transaction(runtime.sessions) as db:
        await db.execute(
            update(AccountingSession)
            .where(
                AccountingSession.point_id == edge.point.id, AccountingSession.stopped_at.is_(None)
            )
            .values(stopped_at=AccountingSession.updated_at)
        )
    planned, done = await purge(runtime, horizon)
    assert (planned.service_days, planned.sessions, planned.logins, planned.kept_days) == (
        3,
        5,
        5,
        0,
    )
    assert done["sessions_deleted"] == 5 and done["grants_deleted"] == 5
    assert await daily(runtime, [edge.point.id], *period) == before
    async with runtime.sessions() as db:
        names = set(
            await db.scalars(
                select(AccountingSession.acct_session_id).where(
                    AccountingSession.point_id == edge.point.id
                )
            )
        )
    assert names == {"s8", "s9"}


async def test_cli_dry_run_then_purge(runtime: Runtime, cli: Cli) -> None:
    await purge(runtime, date(2001, 5, 1))
    point = await create_point(runtime)
    await submit(
        runtime, point, email=new_email(), answers=full_answers(), now=at(date(2001, 5, 2), 9)
    )

    dry = (await cli("purge", "--before", "2001-06-01", "--dry-run", "--json")).json()
    assert dry["horizon"] == "2001-06-01" and dry["dry_run"] is True
    assert (dry["responses_to_unlink"], dry["grants_to_delete"]) == (1, 1)
    again = (await cli("purge", "--before", "2001-06-01", "--dry-run", "--json")).json()
    assert again == dry, "a dry run changes nothing"

    refused = await cli("purge", "--before", "2001-06-01", code=2)
    assert "nobody can confirm the purge (no terminal): add --yes" in refused.stderr
    done = (await cli("purge", "--before", "2001-06-01", "--yes", "--json")).json()
    assert (done["responses_unlinked"], done["grants_deleted"]) == (1, 1)
    text = (await cli("purge", "--before", "2001-06-01", "--dry-run")).stdout
    lines = dict(line.split(None, 1) for line in text.splitlines())
    assert lines["horizon"] == "2001-06-01" and lines["dry_run"] == "True"
    assert lines["responses_to_unlink"] == "0" and lines["grants_to_delete"] == "0"

    today = utcnow().date()
    default = (await cli("purge", "--dry-run", "--json")).json()
    assert default["horizon"] == (today - timedelta(days=365)).isoformat()
    thirty = (await cli("purge", "--dry-run", "--json", "--days", "30")).json()
    assert thirty["horizon"] == (today - timedelta(days=30)).isoformat()

    for args, code, message in [
        (("--before", "2001-06-01", "--days", "3"), 2, "give --before or --days, not both"),
        (("--before", (today + timedelta(days=1)).isoformat(), "--dry-run"), 1, "is after today"),
        (("--days", "0", "--dry-run"), 2, "0 is not in the range x>=1"),
    ]:
        failed = await cli("purge", *args, code=code)
        assert failed.stderr.startswith("cautiva: error: ") and failed.stderr.count("\n") == 1
        assert message in failed.stderr and failed.stdout == ""

"""Service figures against counts made independently from the generated data set."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from analytics_dataset import AnalyticsDataset, make_dataset
from sqlalchemy import func, select, update

from cautiva.analytics.scope import Period, Scope
from cautiva.analytics.service import Grouping, ServiceFigures, service_figures
from cautiva.analytics.suppression import suppress
from cautiva.database import transaction
from cautiva.fieldwork.service import record_heartbeat, record_status_server
from cautiva.models import Point, PointSeenHour, ServiceDay
from cautiva.runtime import Runtime
from tests.factories import create_point

LATER = datetime(2027, 1, 1, tzinfo=UTC)


async def figures(
    runtime: Runtime,
    *,
    period: Period,
    scope: Scope,
    grouping: Grouping = Grouping.POINT,
    threshold: int = 5,
    now: datetime = LATER,
) -> ServiceFigures:
    """The service figures, read in a transaction of their own."""
    async with runtime.sessions() as session:
        return await service_figures(
            session, period=period, scope=scope, grouping=grouping, threshold=threshold, now=now
        )


def expected_per_point(dataset: AnalyticsDataset, period: Period) -> dict[int, dict[str, int]]:
    """Sessions, devices, seconds, bytes, logins and seen hours per point, counted by hand."""
    counts: dict[int, dict[str, int]] = {p.id: defaultdict(int) for p in dataset.points}
    macs: dict[int, set[str]] = defaultdict(set)
    for s in dataset.sessions:
        if period.since <= s.day <= period.until:
            counts[s.point_id]["sessions"] += 1
            counts[s.point_id]["seconds"] += s.session_time
            counts[s.point_id]["bytes"] += s.total_bytes
            macs[s.point_id].add(s.mac)
    for g in dataset.grants:
        if g.first_login_at and period.start <= g.first_login_at < period.end:
            counts[g.point_id]["logins"] += 1
    for point_id, hour in dataset.seen_hours:
        if period.start <= hour < period.end:
            counts[point_id]["seen"] += 1
    for point_id, found in macs.items():
        counts[point_id]["devices"] = len(found)
    return counts


def possible_hours(dataset: AnalyticsDataset, point_id: int, period: Period) -> int:
    """The hours of `period` after the point was created."""
    start = max(period.start, dataset.point(point_id).created_at)
    return max(0, int((period.end - start).total_seconds() // 3600))


async def test_per_point_figures_match_the_sessions_grants_and_seen_hours(
    runtime: Runtime,
) -> None:
    dataset = await make_dataset(runtime)
    period = dataset.period
    department = dataset.departments[0]
    scope = Scope(department=department)
    result = await figures(runtime, period=period, scope=scope, threshold=1)
    counts = expected_per_point(dataset, period)
    ids = dataset.point_ids(department=department)

    assert {row.key for row in result.rows} == {dataset.point(i).nas_id for i in ids}
    for row in result.rows:
        (point_id,) = [i for i in ids if dataset.point(i).nas_id == row.key]
        mine = counts[point_id]
        assert row.label == dataset.point(point_id).name and row.points == 1
        assert (row.sessions, row.devices, row.logins) == (
            mine["sessions"],
            mine["devices"],
            mine["logins"],
        )
        assert row.hours_online == round(mine["seconds"] / 3600, 1)
        assert row.gigabytes == round(mine["bytes"] / 1e9, 3)
        assert row.uptime == mine["seen"] / possible_hours(dataset, point_id, period)
    total = result.total
    assert total.points == len(ids)
    assert total.sessions == sum(counts[i]["sessions"] for i in ids)
    assert total.logins == sum(counts[i]["logins"] for i in ids)
    macs = {s.mac for s in dataset.sessions if s.point_id in ids}
    assert total.devices == len(macs)
    seen = sum(counts[i]["seen"] for i in ids)
    assert total.uptime == seen / sum(possible_hours(dataset, i, period) for i in ids)

    # Beyond 62 days the timeline counts per ISO week, every week present.
    weekly: dict[date, int] = defaultdict(int)
    for s in dataset.sessions:
        if s.point_id in ids:
            weekly[s.day - timedelta(days=s.day.weekday())] += 1
    mondays = [day for day, _ in result.timeline]
    assert mondays[0] == period.since - timedelta(days=period.since.weekday())
    assert all(b - a == timedelta(days=7) for a, b in itertools.pairwise(mondays))
    assert mondays[-1] <= period.until < mondays[-1] + timedelta(days=7)
    assert dict(result.timeline) == {day: weekly.get(day, 0) for day in mondays}

    events: dict[str, int] = defaultdict(int)
    for counter in dataset.counters:
        if counter.point_id in ids:
            events[counter.event] += counter.count
    assert dict(result.funnel) == {
        "splash_opened": events["splash_opened"],
        "consent": events["consent"],
        "survey_done": events["survey_done"],
        "message_shown": events["message_shown"],
        "login_sent": events["login_sent"],
        "login_accepted": total.logins,
    }
    assert [name for name, _ in result.funnel][-1] == "login_accepted"
    assert dict(result.media) == {
        "message_shown": events["message_shown"],
        "video_started": events["video_started"],
        "video_finished": events["video_finished"],
    }


async def test_groups_by_municipality_and_department_with_distinct_devices(
    runtime: Runtime,
) -> None:
    dataset = await make_dataset(runtime, seed=11)
    period = Period(dataset.since, dataset.since + timedelta(days=40))
    department = dataset.departments[0]  # "Norte": two municipalities, three points
    scope = Scope(department=department)
    by_town = await figures(
        runtime, period=period, scope=scope, grouping=Grouping.MUNICIPALITY, threshold=1
    )
    counts = expected_per_point(dataset, period)
    towns: dict[str, set[int]] = defaultdict(set)
    for i in dataset.point_ids(department=department):
        towns[dataset.point(i).municipality].add(i)
    assert {row.key: row.points for row in by_town.rows} == {t: len(i) for t, i in towns.items()}
    for row in by_town.rows:
        ids = towns[row.key]
        assert row.label == f"{row.key}, {department}"
        assert row.sessions == sum(counts[i]["sessions"] for i in ids)
        # A device seen at two points of the town is one device.
        macs = {
            s.mac
            for s in dataset.sessions
            if s.point_id in ids and period.since <= s.day <= period.until
        }
        assert row.devices == len(macs)
    assert len(by_town.timeline) == len(period.days()), "41 days: one bucket per day"

    by_department = await figures(
        runtime, period=period, scope=scope, grouping=Grouping.DEPARTMENT, threshold=1
    )
    (row,) = by_department.rows
    assert (row.key, row.label, row.points) == (department, department, 3)
    assert (row.sessions, row.devices, row.logins) == (
        by_department.total.sessions,
        by_department.total.devices,
        by_department.total.logins,
    )


async def test_small_groups_are_hidden_with_their_time_and_volume(runtime: Runtime) -> None:
    dataset = await make_dataset(runtime, seed=17)
    period = Period(dataset.since, dataset.since + timedelta(days=20))
    department = dataset.departments[0]
    counts = expected_per_point(dataset, period)
    ids = sorted(dataset.point_ids(department=department))
    sessions = {dataset.point(i).nas_id: counts[i]["sessions"] for i in ids}
    threshold = sorted(sessions.values())[1] + 1  # at least two points fall under it
    result = await figures(
        runtime, period=period, scope=Scope(department=department), threshold=threshold
    )
    shown = {row.key: row.sessions for row in result.rows}
    assert shown == suppress(sessions, threshold)
    assert sum(value is None for value in shown.values()) >= 2
    for row in result.rows:
        if row.sessions is None:
            assert row.hours_online is None and row.gigabytes is None
        else:
            assert row.sessions >= threshold and row.hours_online is not None
        for value in (row.sessions, row.devices, row.logins):
            assert value is None or value == 0 or value >= threshold
    for _, value in (*result.timeline, *result.funnel, *result.media):
        assert value is None or value == 0 or value >= threshold


async def test_purged_days_are_added_in_from_service_days(runtime: Runtime) -> None:
    dataset = await make_dataset(runtime, seed=23)
    first, second = dataset.points[0], dataset.points[1]
    scope = Scope(municipality=first.municipality)  # both stand in the same town
    assert second.municipality == first.municipality
    raw_period = Period(dataset.since, dataset.since + timedelta(days=9))
    before = await figures(runtime, period=raw_period, scope=scope, threshold=1)
    purged = [
        ServiceDay(
            day=dataset.since - timedelta(days=3),
            point_id=first.id,
            sessions=40,
            devices=30,
            seconds=36_000,
            input_bytes=2 * 10**9,
            output_bytes=3 * 10**9,
            logins=38,
        ),
        ServiceDay(
            day=dataset.since - timedelta(days=2),
            point_id=first.id,
            sessions=10,
            devices=9,
            seconds=7_200,
            input_bytes=10**8,
            output_bytes=10**9,
            logins=10,
        ),
        ServiceDay(
            day=dataset.since - timedelta(days=2),
            point_id=second.id,
            sessions=7,
            devices=7,
            seconds=3_600,
            input_bytes=0,
            output_bytes=5 * 10**8,
            logins=6,
        ),
    ]
    async with transaction(runtime.sessions) as session:
        session.add_all(purged)
    period = Period(dataset.since - timedelta(days=5), raw_period.until)
    after = await figures(runtime, period=period, scope=scope, threshold=1)

    rows_before = {row.key: row for row in before.rows}
    rows_after = {row.key: row for row in after.rows}
    for point, days in ((first, purged[:2]), (second, purged[2:])):
        old, new = rows_before[point.nas_id], rows_after[point.nas_id]
        assert old.sessions is not None and old.devices is not None and old.logins is not None
        assert new.sessions == old.sessions + sum(d.sessions for d in days)
        assert new.devices == old.devices + sum(d.devices for d in days)
        assert new.logins == old.logins + sum(d.logins for d in days)
        seconds = round(sum(d.seconds for d in days) / 3600, 1)
        assert new.hours_online is not None and old.hours_online is not None
        assert abs(new.hours_online - old.hours_online - seconds) < 0.11
    timeline = dict(after.timeline)
    assert timeline[dataset.since - timedelta(days=3)] == 40
    assert timeline[dataset.since - timedelta(days=2)] == 17
    assert timeline[dataset.since - timedelta(days=5)] == 0
    assert dict(after.funnel)["login_accepted"] == after.total.logins


async def test_uptime_counts_seen_hours_while_the_point_existed_up_to_now(
    runtime: Runtime,
) -> None:
    point = await create_point(runtime)
    retired = await create_point(runtime)
    day = date(2024, 2, 10)
    midnight = datetime.combine(day, time.min, tzinfo=UTC)
    async with transaction(runtime.sessions) as session:
        # The point was put in at 06:00, the other one retired at 11:30.
        await session.execute(
            update(Point)
            .where(Point.id == point.id)
            .values(created_at=midnight + timedelta(hours=6))
        )
        await session.execute(
            update(Point)
            .where(Point.id == retired.id)
            .values(
                created_at=midnight - timedelta(days=30),
                retired_at=midnight + timedelta(hours=11, minutes=30),
                active=False,
            )
        )
        for hour in (6, 7, 8, 9):
            session.add(PointSeenHour(point_id=point.id, hour=midnight + timedelta(hours=hour)))
        for hour in (0, 1, 2, 13):  # seen after retirement: not counted
            session.add(PointSeenHour(point_id=retired.id, hour=midnight + timedelta(hours=hour)))
    period = Period(day, day)
    now = midnight + timedelta(hours=13, minutes=20)  # hours 06..13 of the point: 8
    for ref, expected in ((point, 4 / 8), (retired, 3 / 12)):
        result = await figures(runtime, period=period, scope=Scope(point_id=ref.id), now=now)
        (row,) = result.rows
        assert row.uptime == expected and result.total.uptime == expected
        assert (row.sessions, row.devices, row.logins) == (0, 0, 0)
    # Before the point existed there is no uptime to tell.
    earlier = Period(day - timedelta(days=3), day - timedelta(days=1))
    result = await figures(runtime, period=earlier, scope=Scope(point_id=point.id), now=now)
    assert result.rows == () and result.total.uptime is None and result.total.points == 0


async def test_heartbeats_and_status_server_mark_each_hour_once(runtime: Runtime) -> None:
    point = await create_point(runtime)
    other = await create_point(runtime)
    at = datetime(2024, 5, 1, 9, 5, tzinfo=UTC)
    async with transaction(runtime.sessions) as session:
        db_point = await session.get(Point, point.id)
        assert db_point is not None
        await record_heartbeat(session, point=db_point, uptime=60, load=0.1, now=at)
        await record_heartbeat(
            session, point=db_point, uptime=120, load=0.1, now=at + timedelta(minutes=30)
        )
        await record_status_server(
            session, seen={point.id: at + timedelta(minutes=50), other.id: at}
        )
        await record_status_server(session, seen={point.id: at + timedelta(hours=1)})
    async with runtime.sessions() as session:
        rows = (
            await session.execute(
                select(PointSeenHour.point_id, PointSeenHour.hour)
                .where(PointSeenHour.point_id.in_([point.id, other.id]))
                .order_by(PointSeenHour.point_id, PointSeenHour.hour)
            )
        ).all()
        count = await session.scalar(
            select(func.count())
            .select_from(PointSeenHour)
            .where(PointSeenHour.point_id == point.id)
        )
    nine = datetime(2024, 5, 1, 9, tzinfo=UTC)
    assert [tuple(row) for row in rows] == [
        (point.id, nine),
        (point.id, nine + timedelta(hours=1)),
        (other.id, nine),
    ]
    assert count == 2

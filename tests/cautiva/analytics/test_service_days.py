"""Service figures per UTC day, counted from raw sessions and grants."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from cautiva.analytics.scope import Period, Scope
from cautiva.analytics.service_days import raw_service_days
from cautiva.errors import InvalidInput
from cautiva.runtime import Runtime
from tests.factories import create_point, go_online


async def test_sessions_devices_time_and_logins_are_counted_per_utc_day(runtime: Runtime) -> None:
    point = await create_point(runtime)
    late = datetime(2026, 3, 1, 23, 50, tzinfo=UTC)  # 23:50 UTC: still 1 March in UTC
    await go_online(runtime, point, started=late, used=600, mac="02:00:00:00:30:01")
    await go_online(
        runtime,
        point,
        started=late + timedelta(minutes=5),
        used=60,
        mac="02:00:00:00:30:01",
        acct_session_id="80000002",
    )
    await go_online(
        runtime,
        point,
        started=late + timedelta(minutes=20),
        mac="02:00:00:00:30:02",
        acct_session_id="80000003",
    )
    period = Period(date(2026, 3, 1), date(2026, 3, 2))
    async with runtime.sessions() as db:
        days = await raw_service_days(db, start=period.start, end=period.end, point_ids=[point.id])
    assert [(d.day, d.sessions, d.devices, d.seconds, d.logins) for d in days] == [
        (date(2026, 3, 1), 2, 1, 660, 2),
        (date(2026, 3, 2), 1, 1, 0, 1),
    ]


def test_a_period_must_not_end_before_it_starts() -> None:
    with pytest.raises(InvalidInput):
        Period(date(2026, 3, 2), date(2026, 3, 1))
    assert Period(date(2026, 3, 1), date(2026, 3, 3)).days()[-1] == date(2026, 3, 3)
    assert Scope().conditions() == []

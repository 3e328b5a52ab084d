"""Operational alerts on the real database: points unheard for too long, drops in surveys."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import select
from test_alerts_service import alerts_at, deliveries_of, submit

from cautiva.alerts.operational import check_points
from cautiva.alerts.service import set_offline_minutes
from cautiva.database import transaction
from cautiva.fieldwork.service import record_heartbeat, retire
from cautiva.models import Alert, Point, utcnow
from cautiva.runtime import Runtime
from cautiva.settings import AlertSettings
from factories import create_point, full_answers

HOUR = timedelta(hours=1)


async def heartbeat(runtime: Runtime, point: Point, at: datetime) -> None:
    async with transaction(runtime.sessions) as session:
        await record_heartbeat(session, point=point, uptime=3600, load=0.1, now=at)


async def check(
    runtime: Runtime,
    settings: AlertSettings,
    now: datetime,
    listening_since: datetime | None = None,
) -> None:
    async with transaction(runtime.sessions) as session:
        await check_points(session, settings=settings, now=now, listening_since=listening_since)


async def test_an_unheard_point_raises_one_alert_that_closes_when_it_is_back(
    runtime: Runtime,
) -> None:
    settings = AlertSettings(
        offline_minutes=60, webhook_url="http://127.0.0.1:9/never", webhook_secret="s" * 16
    )
    point, never = await create_point(runtime), await create_point(runtime)
    now = utcnow()
    await heartbeat(runtime, point, now - 2 * HOUR)
    await check(runtime, settings, now)
    (alert,) = await alerts_at(runtime, point)
    assert (alert.kind, alert.state, alert.severity) == ("point_offline", "open", "warning")
    assert alert.open_key == f"point_offline:{point.id}" and alert.rule_id is None
    assert alert.details["threshold_minutes"] == 60
    assert alert.details["minutes_unheard"] >= 120
    # Checked again: still the one alert. A point never heard from is not installed yet.
    await check(runtime, settings, now + timedelta(minutes=5))
    assert len(await alerts_at(runtime, point)) == 1
    assert await alerts_at(runtime, never) == []
    await heartbeat(runtime, point, now + timedelta(minutes=6))
    await check(runtime, settings, now + timedelta(minutes=7))
    (closed,) = await alerts_at(runtime, point)
    assert closed.state == "closed" and closed.closed_by == "cautiva (point back online)"
    assert closed.open_key is None
    events = [
        (d.event, json.loads(d.body)["alert"]["state"])
        for d in await deliveries_of(runtime, [alert])
    ]
    assert events == [("alert.opened", "open"), ("alert.closed", "closed")]
    # Unheard again later: a new alert.
    await check(runtime, settings, now + 4 * HOUR)
    assert [a.state for a in await alerts_at(runtime, point)] == ["closed", "open"]


async def test_thresholds_per_point_and_time_nobody_listened(runtime: Runtime) -> None:
    settings = AlertSettings(offline_minutes=60)
    strict, relaxed = await create_point(runtime), await create_point(runtime)
    async with transaction(runtime.sessions) as session:
        await set_offline_minutes(session, point_ref=strict.nas_id, minutes=30)
    now = utcnow()
    await heartbeat(runtime, strict, now - timedelta(minutes=45))
    await heartbeat(runtime, relaxed, now - timedelta(minutes=45))
    # The portal just started: 45 minutes unheard, but it listened for 10 only.
    await check(runtime, settings, now, listening_since=now - timedelta(minutes=10))
    assert await alerts_at(runtime, strict) == []
    await check(runtime, settings, now)
    (alert,) = await alerts_at(runtime, strict)
    assert alert.details["threshold_minutes"] == 30
    assert await alerts_at(runtime, relaxed) == []
    # A restart while the point is still unheard does not close its alert.
    await check(runtime, settings, now + timedelta(minutes=1), listening_since=now)
    assert (await alerts_at(runtime, strict))[0].state == "open"


async def test_retiring_a_point_closes_its_offline_alert(runtime: Runtime) -> None:
    settings = AlertSettings(offline_minutes=60)
    point = await create_point(runtime)
    now = utcnow()
    await heartbeat(runtime, point, now - 3 * HOUR)
    await check(runtime, settings, now)
    async with transaction(runtime.sessions) as session:
        row = await session.get(Point, point.id)
        assert row is not None
        await retire(session, point=row, now=now)
    await check(runtime, settings, now + timedelta(minutes=1))
    (alert,) = await alerts_at(runtime, point)
    assert alert.state == "closed" and alert.closed_by == "cautiva (point retired)"


async def test_a_sharp_drop_in_surveys_raises_an_alert_that_clears(runtime: Runtime) -> None:
    point = await create_point(runtime)
    now = utcnow()
    # Three surveys a day over the week before the last 24 hours, then none.
    for day in range(1, 8):
        for hour in (2, 5, 9):
            await submit(runtime, point, full_answers(), now=now - timedelta(days=day, hours=hour))
    settings = AlertSettings(survey_drop_min=2, survey_drop_ratio=0.5)
    await check(runtime, settings, now)
    (alert,) = await alerts_at(runtime, point)
    assert (alert.kind, alert.state, alert.open_key) == (
        "survey_drop",
        "open",
        f"survey_drop:{point.id}",
    )
    assert alert.details == {
        "surveys_last_24h": 0,
        "daily_mean_before": 3.0,
        "baseline_days": 7,
        "ratio": 0.5,
    }
    # A baseline under the minimum compares nothing: the alert closes.
    await check(runtime, AlertSettings(survey_drop_min=10), now)
    (closed,) = await alerts_at(runtime, point)
    assert closed.closed_by == "cautiva (too few surveys to compare)"
    await check(runtime, settings, now)
    assert [a.state for a in await alerts_at(runtime, point)] == ["closed", "open"]
    # Two surveys in the last day: back above half the daily mean of 3.
    for minutes in (30, 50):
        await submit(runtime, point, full_answers(), now=now - timedelta(minutes=minutes))
    await check(runtime, settings, now)
    alerts = await alerts_at(runtime, point)
    assert [a.state for a in alerts] == ["closed", "closed"]
    assert alerts[1].closed_by == "cautiva (surveys back up)"
    async with transaction(runtime.sessions) as session:
        keyed = await session.scalars(
            select(Alert.id).where(Alert.open_key == f"survey_drop:{point.id}")
        )
        assert keyed.all() == []

"""Operational alerts: a point unheard for too long, a sharp drop in completed surveys.

Checked every `CAUTIVA_ALERTS_CHECK_INTERVAL` seconds by the portal (and by `cautiva alert
check`). Each kind keeps at most one unclosed alert per point (its `open_key`, unique), which
closes by itself when the condition clears. A point never heard from is not installed yet and
raises nothing. Flushes, never commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.alerts.repository import AlertRepository
from cautiva.alerts.service import close
from cautiva.alerts.webhook import Event, enqueue
from cautiva.fieldwork.service import overview
from cautiva.models import Alert, AlertKind, AlertState, Point, Severity
from cautiva.settings import AlertSettings

OFFLINE_TITLE = "Point offline"
DROP_TITLE = "Sharp drop in completed surveys"
BASELINE_DAYS = 7
BACK_ONLINE = "cautiva (point back online)"
RETIRED = "cautiva (point retired)"
SURVEYS_BACK = "cautiva (surveys back up)"
TOO_FEW = "cautiva (too few surveys to compare)"


@dataclass(slots=True)
class CheckResult:
    """The alerts one check opened and closed (ids)."""

    opened: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)


def offline_key(point_id: int) -> str:
    """The open key of a point's offline alert."""
    return f"{AlertKind.POINT_OFFLINE.value}:{point_id}"


def drop_key(point_id: int) -> str:
    """The open key of a point's survey-drop alert."""
    return f"{AlertKind.SURVEY_DROP.value}:{point_id}"


async def check_points(
    session: AsyncSession,
    *,
    settings: AlertSettings,
    now: datetime,
    listening_since: datetime | None = None,
) -> CheckResult:
    """Open and close the operational alerts of every point as of `now`.

    `listening_since` is when the caller started hearing heartbeats (the portal's start): a
    point is not called unheard for the time nobody listened.
    """
    result = CheckResult()
    webhooks = bool(settings.webhook_url)
    await _check_offline(
        session,
        settings=settings,
        now=now,
        listening_since=listening_since,
        webhooks=webhooks,
        result=result,
    )
    await _check_drops(session, settings=settings, now=now, webhooks=webhooks, result=result)
    return result


async def _open(
    session: AsyncSession,
    *,
    point: Point,
    kind: AlertKind,
    key: str,
    title: str,
    details: dict[str, Any],
    now: datetime,
    webhooks: bool,
) -> Alert:
    alert = await AlertRepository(session).add_alert(
        Alert(
            kind=kind.value,
            rule_id=None,
            point_id=point.id,
            severity=Severity.WARNING.value,
            title=title,
            details=details,
            state=AlertState.OPEN.value,
            open_key=key,
            created_at=now,
        )
    )
    if webhooks:
        await enqueue(session, event=Event.OPENED, alert=alert, point=point, now=now)
    return alert


async def _check_offline(
    session: AsyncSession,
    *,
    settings: AlertSettings,
    now: datetime,
    listening_since: datetime | None,
    webhooks: bool,
    result: CheckResult,
) -> None:
    current = await AlertRepository(session).open_keyed(f"{AlertKind.POINT_OFFLINE.value}:")
    # The admin's own reckoning of "last seen": heartbeat, Status-Server, accounting.
    for view in await overview(session, now=now, offline_after=settings.offline_minutes * 60):
        point = await session.get(Point, view.id)
        if point is None:  # pragma: no cover - just listed
            continue
        key = offline_key(point.id)
        alert = current.get(key)
        if not point.active:
            if alert is not None:
                await close(session, alert, by=RETIRED, now=now, webhooks=webhooks)
                result.closed.append(alert.id)
            continue
        if view.last_seen_at is None:
            continue
        threshold = point.offline_alert_minutes or settings.offline_minutes
        limit = timedelta(minutes=threshold)
        unheard = now - view.last_seen_at
        counted = unheard if listening_since is None else min(unheard, now - listening_since)
        if counted > limit:
            if alert is None:
                opened = await _open(
                    session,
                    point=point,
                    kind=AlertKind.POINT_OFFLINE,
                    key=key,
                    title=OFFLINE_TITLE,
                    details={
                        "last_seen_at": view.last_seen_at.replace(microsecond=0).isoformat(),
                        "minutes_unheard": int(unheard.total_seconds() // 60),
                        "threshold_minutes": threshold,
                    },
                    now=now,
                    webhooks=webhooks,
                )
                result.opened.append(opened.id)
        elif alert is not None and unheard <= limit:
            await close(session, alert, by=BACK_ONLINE, now=now, webhooks=webhooks)
            result.closed.append(alert.id)


async def _check_drops(
    session: AsyncSession,
    *,
    settings: AlertSettings,
    now: datetime,
    webhooks: bool,
    result: CheckResult,
) -> None:
    repository = AlertRepository(session)
    day = timedelta(days=1)
    last_day = await repository.responses_between(now - day, now)
    before = await repository.responses_between(now - (BASELINE_DAYS + 1) * day, now - day)
    current = await repository.open_keyed(f"{AlertKind.SURVEY_DROP.value}:")
    watched = set(last_day) | set(before) | {int(k.rsplit(":", 1)[1]) for k in current}
    for point_id in sorted(watched):
        point = await session.get(Point, point_id)
        if point is None:  # pragma: no cover - responses keep their point
            continue
        alert = current.get(drop_key(point_id))
        mean = before.get(point_id, 0) / BASELINE_DAYS
        recent = last_day.get(point_id, 0)
        enough = mean >= settings.survey_drop_min
        dropped = point.active and enough and recent < settings.survey_drop_ratio * mean
        if dropped and alert is None:
            opened = await _open(
                session,
                point=point,
                kind=AlertKind.SURVEY_DROP,
                key=drop_key(point_id),
                title=DROP_TITLE,
                details={
                    "surveys_last_24h": recent,
                    "daily_mean_before": round(mean, 1),
                    "baseline_days": BASELINE_DAYS,
                    "ratio": settings.survey_drop_ratio,
                },
                now=now,
                webhooks=webhooks,
            )
            result.opened.append(opened.id)
        elif not dropped and alert is not None:
            reason = RETIRED if not point.active else (SURVEYS_BACK if enough else TOO_FEW)
            await close(session, alert, by=reason, now=now, webhooks=webhooks)
            result.closed.append(alert.id)

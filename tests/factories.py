"""Test data: points and grants made through the same services the CLI and portal use."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta

from cautiva.accounting.service import AccountingEvent, AcctStatus, record_many
from cautiva.credentials import new_secret
from cautiva.database import transaction
from cautiva.grants.service import IssuedGrant, LoginAttempt, authorize_many, issue_grants
from cautiva.models import NasType, Point, utcnow
from cautiva.points.service import NewPoint, PointChanges, add_point, point_view, update_point
from cautiva.policy import Accept
from cautiva.runtime import Runtime


async def create_point(
    runtime: Runtime,
    *,
    nas_type: NasType = NasType.MIKROTIK,
    coa_port: int = 3799,
    require_message_authenticator: bool = True,
    fixed_address: str | None = None,
    rate_down_kbps: int | None = None,
    rate_up_kbps: int | None = None,
) -> Point:
    """Create a point with a unique NAS-Identifier and a strong secret."""
    async with transaction(runtime.sessions) as session:
        point = await add_point(
            session,
            new=NewPoint(
                name=f"Test point {nas_type.value}",
                nas_id=f"nas-{uuid.uuid4().hex[:10]}",
                nas_type=nas_type,
                secret=new_secret(24),
                fixed_address=fixed_address,
                coa_port=coa_port,
            ),
        )
        if not require_message_authenticator or rate_down_kbps is not None or rate_up_kbps:
            point = await update_point(
                session,
                ref=point.nas_id,
                changes=PointChanges(
                    require_message_authenticator=require_message_authenticator,
                    rate_down_kbps=rate_down_kbps,
                    rate_up_kbps=rate_up_kbps,
                ),
            )
        return point


async def issue(
    runtime: Runtime, point: Point, *, mac: str | None = None, now: datetime | None = None
) -> IssuedGrant:
    """Issue one grant at `point`."""
    async with transaction(runtime.sessions) as session:
        (grant,) = await issue_grants(
            session,
            point=point,
            secret_key=runtime.settings.secret_key,
            rules=runtime.rules,
            login_window=runtime.settings.session.login_window,
            now=now or utcnow(),
            mac=mac,
        )
        return grant


SURVEY_BANDS = [
    "girls_0_5",
    "boys_0_5",
    "girls_6_17",
    "boys_6_17",
    "women_18_59",
    "men_18_59",
    "women_60",
    "men_60",
]


def full_answers() -> dict[str, object]:
    """Answers that complete the shipped default form (a mother and her small son)."""
    return {
        "group_size": 2,
        **dict.fromkeys(SURVEY_BANDS, 0),
        "women_18_59": 1,
        "boys_0_5": 1,
        "nationality": "VEN",
        "coming_from": "COL",
        "coming_from_place": "Cúcuta",
        "going_to": "PER",
        "stay": "days",
        "needs": ["food", "shelter"],
        "risks": ["none"],
        "consent_messages": "yes",
    }


async def go_online(
    runtime: Runtime,
    point: Point,
    *,
    started: datetime,
    used: int = 0,
    mac: str = "02:00:00:00:20:01",
    framed_ip: str = "10.5.50.9",
    acct_session_id: str = "80000001",
) -> IssuedGrant:
    """Issue a grant, log in with it and start a session at `started`, as RADIUS would.

    With `used`, an Interim-Update reports that many seconds at `started + used`.
    """
    grant = await issue(runtime, point, mac=mac, now=started)
    attempt = LoginAttempt(point=point_view(point), username=grant.username, mac=mac)
    async with transaction(runtime.sessions) as db:
        (decision,) = await authorize_many(db, attempts=[attempt], now=started, rules=runtime.rules)
    assert isinstance(decision, Accept), decision
    start = AccountingEvent(
        point_id=point.id,
        status=AcctStatus.START,
        event_time=started,
        username=grant.username,
        acct_session_id=acct_session_id,
        mac=mac,
        framed_ip=framed_ip,
        nas_address="127.0.0.1",
    )
    events = [start]
    if used:
        at = started + timedelta(seconds=used)
        events.append(replace(start, status=AcctStatus.INTERIM, event_time=at, session_time=used))
    async with transaction(runtime.sessions) as db:
        await record_many(db, events=events, now=utcnow(), rules=runtime.rules)
    return grant

"""Issuing grants and deciding logins with them under the session policy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.credentials import grant_password, new_username
from cautiva.errors import InvalidInput
from cautiva.grants.repository import GrantRepository
from cautiva.macs import normalise_mac
from cautiva.models import Grant, Point
from cautiva.policy import (
    Accept,
    Decision,
    GrantView,
    PointView,
    SessionRules,
    decide,
    used_seconds,
)

MAX_GRANTS_PER_CALL = 10000


@dataclass(frozen=True, slots=True)
class IssuedGrant:
    """A credential as handed to the person's browser or to a technician."""

    id: int
    username: str
    password: str
    seconds: int
    login_deadline: datetime
    mac: str | None


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    """An Access-Request whose password the edge has already checked."""

    point: PointView
    username: str
    mac: str | None


async def issue_grants(
    session: AsyncSession,
    *,
    point: Point,
    secret_key: str,
    rules: SessionRules,
    login_window: int,
    now: datetime,
    mac: str | None = None,
    person_key: str | None = None,
    count: int = 1,
) -> list[IssuedGrant]:
    """Issue `count` grants for one session at `point` (bound to `mac` when given)."""
    if not point.active:
        raise InvalidInput(f"point {point.nas_id!r} is retired")
    if not 1 <= count <= MAX_GRANTS_PER_CALL:
        raise InvalidInput(f"count must be between 1 and {MAX_GRANTS_PER_CALL}")
    bound_mac = None
    if mac:
        bound_mac = normalise_mac(mac)
        if bound_mac is None:
            raise InvalidInput(f"not a MAC address: {mac!r}")
    deadline = now + timedelta(seconds=login_window)
    grants = [
        Grant(
            username=new_username(),
            point_id=point.id,
            mac=bound_mac,
            person_key=person_key,
            seconds_allowed=rules.limit,
            issued_at=now,
            login_deadline=deadline,
        )
        for _ in range(count)
    ]
    await GrantRepository(session).add_all(grants)
    return [
        IssuedGrant(
            id=grant.id,
            username=grant.username,
            password=grant_password(secret_key, grant.username),
            seconds=grant.seconds_allowed,
            login_deadline=deadline,
            mac=bound_mac,
        )
        for grant in grants
    ]


def grant_view(grant: Grant) -> GrantView:
    """Return the policy's view of a grant."""
    return GrantView(
        id=grant.id,
        point_id=grant.point_id,
        mac=grant.mac,
        seconds_allowed=grant.seconds_allowed,
        login_deadline=grant.login_deadline,
        first_login_at=grant.first_login_at,
        revoked_at=grant.revoked_at,
    )


async def authorize_many(
    session: AsyncSession,
    *,
    attempts: Sequence[LoginAttempt],
    now: datetime,
    rules: SessionRules,
) -> list[Decision]:
    """Decide a batch of logins in one round of queries; binds MACs and marks first logins."""
    repository = GrantRepository(session)
    views = await repository.grant_views({attempt.username for attempt in attempts})
    usage = await repository.usage_by_grant([view.id for view in views.values()])
    decisions: list[Decision] = []
    logins: dict[int, tuple[int, str | None, datetime]] = {}
    for attempt in attempts:
        view = views.get(attempt.username)
        used = used_seconds(usage.get(view.id, ()), now) if view is not None else 0
        decision = decide(
            grant=view, point=attempt.point, mac=attempt.mac, used=used, now=now, rules=rules
        )
        decisions.append(decision)
        if view is None or not isinstance(decision, Accept):
            continue
        if decision.bind_mac or decision.first_login:
            mac = attempt.mac if decision.bind_mac else view.mac
            first_login_at = now if decision.first_login else view.first_login_at
            assert first_login_at is not None
            logins[view.id] = (view.id, mac, first_login_at)
            # Later attempts in the same batch must see this one's effects.
            views[attempt.username] = replace(view, mac=mac, first_login_at=first_login_at)
    await repository.record_logins(list(logins.values()))
    return decisions

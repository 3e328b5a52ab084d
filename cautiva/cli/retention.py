"""`cautiva purge`: drop raw sessions, grants and person keys past the retention period.

Each (day, point) is stored and deleted in a transaction of its own, oldest first: a purge
that stops half-way leaves every day either whole or purged, and the next run carries on.
Short transactions also keep the purge from holding up RADIUS accounting, which writes to the
same tables (SQLite has one writer at a time).
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import click

from cautiva.cli.main import run_async
from cautiva.cli.output import emit
from cautiva.database import transaction
from cautiva.models import utcnow
from cautiva.retention.service import (
    BATCH,
    PurgePlan,
    check_horizon,
    delete_unused_grants,
    drop_grant_keys,
    plan_purge,
    purge_day,
    retention_horizon,
    unlink_responses,
)
from cautiva.runtime import Runtime

DATE = click.DateTime(formats=["%Y-%m-%d"])


async def apply_purge(runtime: Runtime, plan: PurgePlan, *, now: datetime) -> dict[str, int]:
    """Carry a plan out, one transaction per day and per batch; return what was done."""
    max_age = runtime.settings.session.grant_max_age
    done = dict.fromkeys(
        (
            "service_days_written",
            "sessions_deleted",
            "grants_deleted",
            "responses_unlinked",
            "grant_keys_dropped",
        ),
        0,
    )
    for day in plan.days:
        async with transaction(runtime.sessions) as session:
            result = await purge_day(session, day=day, now=now, grant_max_age=max_age)
        done["service_days_written"] += result.service_days
        done["sessions_deleted"] += result.sessions
        done["grants_deleted"] += result.grants
    while True:
        async with transaction(runtime.sessions) as session:
            count = await delete_unused_grants(session, horizon=plan.horizon, now=now)
        done["grants_deleted"] += count
        if count < BATCH:
            break
    while True:
        async with transaction(runtime.sessions) as session:
            count = await unlink_responses(session, horizon=plan.horizon)
        done["responses_unlinked"] += count
        if count < BATCH:
            break
    async with transaction(runtime.sessions) as session:
        done["grant_keys_dropped"] = await drop_grant_keys(session, horizon=plan.horizon)
    return done


@click.command()
@click.option("--before", type=DATE, help="Purge what is older than this UTC day (YYYY-MM-DD).")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    help="Keep this many days before today [CAUTIVA_ANALYTICS_RETENTION_DAYS].",
)
@click.option("--dry-run", is_flag=True, help="Print what would go, change nothing.")
@click.option("--yes", is_flag=True, help="Do not ask to confirm (needed without a terminal).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def purge(
    before: datetime | None, days: int | None, dry_run: bool, yes: bool, as_json: bool
) -> None:
    """Purge raw sessions, grants and person keys older than the retention period.

    Daily service figures are kept in their place and survey answers stay, unlinked from any
    person: every dashboard and aggregate reads the same before and after.
    """
    if before is not None and days is not None:
        raise click.UsageError("give --before or --days, not both")
    if not dry_run and not yes and not sys.stdin.isatty():
        raise click.UsageError(
            "nobody can confirm the purge (no terminal): add --yes, "
            "or --dry-run to see what it would do"
        )
    now = utcnow()
    today = now.date()

    async def plan_work(runtime: Runtime) -> PurgePlan:
        if before is not None:
            horizon = before.date()
        else:
            kept = days if days is not None else runtime.settings.analytics.retention_days
            horizon = retention_horizon(today=today, days=kept)
        check_horizon(horizon, today=today)
        async with transaction(runtime.sessions) as session:
            return await plan_purge(
                session,
                horizon=horizon,
                now=now,
                grant_max_age=runtime.settings.session.grant_max_age,
            )

    plan = run_async(plan_work)
    report: dict[str, Any] = {"horizon": plan.horizon.isoformat(), "dry_run": dry_run}
    if dry_run:
        emit(report | plan.counts(), as_json=as_json)
        return
    if not yes:
        if not as_json:
            emit(report | plan.counts(), as_json=False)
        click.confirm(
            f"Purge the raw records from before {plan.horizon}? This cannot be undone",
            abort=True,
            err=True,
        )

    async def apply_work(runtime: Runtime) -> dict[str, int]:
        return await apply_purge(runtime, plan, now=utcnow())

    done = run_async(apply_work)
    emit(report | plan.counts() | done, as_json=as_json)

"""`cautiva grant`: issue test credentials, the same way the portal does."""

from __future__ import annotations

from typing import Any

import click

from cautiva.cli.main import run_async
from cautiva.cli.output import emit
from cautiva.database import transaction
from cautiva.grants.service import MAX_GRANTS_PER_CALL, issue_grants
from cautiva.models import utcnow
from cautiva.points.service import get_point
from cautiva.runtime import Runtime


@click.group()
def grant() -> None:
    """Issue one-hour credentials."""


@grant.command()
@click.option("--point", "point_ref", required=True, help="Point id or NAS-Identifier.")
@click.option("--mac", help="Bind the grant to this device MAC.")
@click.option(
    "--count",
    type=click.IntRange(1, MAX_GRANTS_PER_CALL),
    default=1,
    show_default=True,
    help="How many grants (a list is printed when more than one).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def issue(point_ref: str, mac: str | None, count: int, as_json: bool) -> None:
    """Issue a grant: print username, password and seconds for a test login."""

    async def work(runtime: Runtime) -> list[dict[str, Any]]:
        async with transaction(runtime.sessions) as session:
            point = await get_point(session, ref=point_ref)
            issued = await issue_grants(
                session,
                point=point,
                secret_key=runtime.settings.secret_key,
                rules=runtime.rules,
                login_window=runtime.settings.session.login_window,
                now=utcnow(),
                mac=mac,
                count=count,
            )
        return [
            {
                "username": g.username,
                "password": g.password,
                "seconds": g.seconds,
                "login_deadline": g.login_deadline,
                "mac": g.mac,
                "point": point.nas_id,
            }
            for g in issued
        ]

    records = run_async(work)
    emit(records[0] if count == 1 else records, as_json=as_json)

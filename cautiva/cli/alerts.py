"""`cautiva alert`: alert rules, the alerts they raise, webhook deliveries and checks."""

from __future__ import annotations

from typing import Any

import click
import httpx

from cautiva.alerts import service
from cautiva.alerts.rounds import run_round
from cautiva.cli.main import run_async
from cautiva.cli.output import emit, emit_table
from cautiva.database import transaction
from cautiva.models import DeliveryState, Severity, WebhookDelivery, utcnow
from cautiva.runtime import Runtime
from cautiva.staff.service import audit

JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
CLI_ACTOR = "cli"


def rule_record(view: service.RuleView) -> dict[str, Any]:
    """A rule as a plain record."""
    rule = view.rule
    return {
        "id": rule.id,
        "name": rule.name,
        "expression": rule.expression,
        "severity": rule.severity,
        "active": rule.active,
        "points": " ".join(p.nas_id for p in view.points) or "*",
        "created_by": rule.created_by,
        "created_at": rule.created_at,
    }


def alert_record(view: service.AlertView) -> dict[str, Any]:
    """An alert as a plain record (its point by NAS-Identifier)."""
    alert = view.alert
    return {
        "id": alert.id,
        "kind": alert.kind,
        "severity": alert.severity,
        "state": alert.state,
        "title": alert.title,
        "point": view.point.nas_id,
        "created_at": alert.created_at,
        "details": alert.details,
        "acknowledged_by": alert.acknowledged_by,
        "acknowledged_at": alert.acknowledged_at,
        "closed_by": alert.closed_by,
        "closed_at": alert.closed_at,
    }


def delivery_record(delivery: WebhookDelivery) -> dict[str, Any]:
    """A webhook delivery as a plain record (without its body)."""
    return {
        "id": delivery.id,
        "alert_id": delivery.alert_id,
        "event": delivery.event,
        "state": delivery.state,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at,
        "last_error": delivery.last_error,
        "created_at": delivery.created_at,
        "delivered_at": delivery.delivered_at,
    }


@click.group()
def alert() -> None:
    """Alerts: rules on survey answers, points offline, survey drops, webhooks."""


@alert.group()
def rule() -> None:
    """Rules in the survey expression language; a matching response raises an alert."""


@rule.command("add")
@click.option("--name", required=True, help="The rule's name (the alert's title).")
@click.option(
    "--expression", required=True, help="As in XLSForm: \"selected(${risks}, 'violence')\"."
)
@click.option(
    "--severity",
    type=click.Choice([s.value for s in Severity]),
    default=Severity.WARNING.value,
    show_default=True,
    help="How urgent its alerts are.",
)
@click.option(
    "--point", "points", multiple=True, help="Only this point (id or NAS-Identifier); repeatable."
)
@JSON_OPTION
def rule_add(
    name: str, expression: str, severity: str, points: tuple[str, ...], as_json: bool
) -> None:
    """Add a rule (every point unless --point is given)."""

    async def work(runtime: Runtime) -> tuple[dict[str, Any], tuple[str, ...]]:
        async with transaction(runtime.sessions) as session:
            now = utcnow()
            added = await service.add_rule(
                session,
                name=name,
                expression=expression,
                severity=severity,
                points=points,
                created_by=CLI_ACTOR,
                now=now,
            )
            await audit(
                session,
                principal=None,
                action="alert_rule.add",
                target=added.rule.name,
                now=now,
                details={"expression": added.rule.expression, "points": list(points)},
            )
            (view,) = [v for v in await service.list_rules(session) if v.rule.id == added.rule.id]
            return rule_record(view), added.unknown

    record, unknown = run_async(work)
    for name_ in unknown:
        click.echo(
            f"cautiva: warning: no published form asks ${{{name_}}}; "
            "the rule matches once a form does",
            err=True,
        )
    emit(record, as_json=as_json)


@rule.command("list")
@JSON_OPTION
def rule_list(as_json: bool) -> None:
    """List the rules, active ones first."""

    async def work(runtime: Runtime) -> list[dict[str, Any]]:
        async with transaction(runtime.sessions) as session:
            return [rule_record(view) for view in await service.list_rules(session)]

    emit_table(
        run_async(work),
        ["id", "name", "severity", "active", "points", "expression"],
        as_json=as_json,
    )


def _switch(ref: str, active: bool) -> None:
    async def work(runtime: Runtime) -> str:
        async with transaction(runtime.sessions) as session:
            now = utcnow()
            changed = await service.set_rule_active(session, ref=ref, active=active, now=now)
            action = "alert_rule.enable" if active else "alert_rule.disable"
            await audit(session, principal=None, action=action, target=changed.name, now=now)
            return changed.name

    name = run_async(work)
    click.echo(f"rule {name!r} {'enabled' if active else 'disabled'}")


@rule.command("disable")
@click.argument("ref")
def rule_disable(ref: str) -> None:
    """Stop a rule (by name or id) from raising alerts."""
    _switch(ref, False)


@rule.command("enable")
@click.argument("ref")
def rule_enable(ref: str) -> None:
    """Let a disabled rule (by name or id) raise alerts again."""
    _switch(ref, True)


@alert.command("list")
@click.option(
    "--state",
    type=click.Choice([*service.STATES, "all"]),
    default="all",
    show_default=True,
    help="Only alerts in this state.",
)
@click.option("--limit", type=click.IntRange(1, 10000), default=200, show_default=True)
@JSON_OPTION
def list_(state: str, limit: int, as_json: bool) -> None:
    """List the newest alerts (details with --json)."""

    async def work(runtime: Runtime) -> list[dict[str, Any]]:
        async with transaction(runtime.sessions) as session:
            views = await service.list_alerts(session, state=state, limit=limit)
            return [alert_record(view) for view in views]

    emit_table(
        run_async(work),
        ["id", "created_at", "state", "severity", "point", "title"],
        as_json=as_json,
    )


def _handle(alert_id: int, action: str) -> None:
    async def work(runtime: Runtime) -> dict[str, Any]:
        async with transaction(runtime.sessions) as session:
            now = utcnow()
            webhooks = bool(runtime.settings.alerts.webhook_url)
            handle = service.acknowledge_alert if action == "acknowledge" else service.close_alert
            changed = await handle(
                session, alert_id=alert_id, by=CLI_ACTOR, now=now, webhooks=webhooks
            )
            await audit(
                session, principal=None, action=f"alert.{action}", target=str(changed.id), now=now
            )
            return {"id": changed.id, "state": changed.state}

    result = run_async(work)
    click.echo(f"alert {result['id']} {result['state']}")


@alert.command("ack")
@click.argument("alert_id", type=int)
def ack(alert_id: int) -> None:
    """Acknowledge an open alert: someone is handling it."""
    _handle(alert_id, "acknowledge")


@alert.command("close")
@click.argument("alert_id", type=int)
def close(alert_id: int) -> None:
    """Close an open or acknowledged alert."""
    _handle(alert_id, "close")


@alert.command("deliveries")
@click.option("--dead", is_flag=True, help="Only the dead-letter list (failed for good).")
@click.option("--limit", type=click.IntRange(1, 10000), default=200, show_default=True)
@JSON_OPTION
def deliveries(dead: bool, limit: int, as_json: bool) -> None:
    """List the newest webhook deliveries."""
    states = (DeliveryState.DEAD.value,) if dead else ()

    async def work(runtime: Runtime) -> list[dict[str, Any]]:
        async with transaction(runtime.sessions) as session:
            rows = await service.list_deliveries(session, states=states, limit=limit)
            return [delivery_record(row) for row in rows]

    emit_table(
        run_async(work),
        ["id", "alert_id", "event", "state", "attempts", "next_attempt_at", "last_error"],
        as_json=as_json,
    )


@alert.command("retry")
@click.argument("delivery_id", type=int)
def retry(delivery_id: int) -> None:
    """Queue a dead webhook delivery again (sent by the next round)."""

    async def work(runtime: Runtime) -> int:
        async with transaction(runtime.sessions) as session:
            now = utcnow()
            delivery = await service.retry_delivery(session, delivery_id=delivery_id, now=now)
            await audit(
                session, principal=None, action="webhook.retry", target=str(delivery.id), now=now
            )
            return delivery.id

    click.echo(f"delivery {run_async(work)} queued again")


@alert.command("check")
@JSON_OPTION
def check(as_json: bool) -> None:
    """Check the points and send the webhooks due, once (the portal does it every minute)."""

    async def work(runtime: Runtime) -> dict[str, Any]:
        async with httpx.AsyncClient(follow_redirects=False) as client:
            done = await run_round(runtime.sessions, client, runtime.settings.alerts, now=utcnow())
        return {
            "opened": len(done.checked.opened),
            "closed": len(done.checked.closed),
            "delivered": done.sent.delivered,
            "failed": done.sent.failed,
            "dead": done.sent.dead,
        }

    emit(run_async(work), as_json=as_json)


@alert.command("offline-minutes")
@click.argument("ref")
@click.argument("minutes", type=int, required=False)
@click.option("--default", "use_default", is_flag=True, help="Use CAUTIVA_ALERTS_OFFLINE_MINUTES.")
def offline_minutes(ref: str, minutes: int | None, use_default: bool) -> None:
    """Set how many minutes a point (id or NAS-Identifier) may stay unheard before an alert."""
    if (minutes is None) == (not use_default):
        raise click.UsageError("give MINUTES or --default (not both)")

    async def work(runtime: Runtime) -> tuple[str, int]:
        async with transaction(runtime.sessions) as session:
            point = await service.set_offline_minutes(
                session, point_ref=ref, minutes=None if use_default else minutes
            )
            await audit(
                session,
                principal=None,
                action="point.set",
                target=point.nas_id,
                now=utcnow(),
                details={"offline_alert_minutes": point.offline_alert_minutes},
            )
            return (
                point.nas_id,
                point.offline_alert_minutes or runtime.settings.alerts.offline_minutes,
            )

    nas_id, effective = run_async(work)
    click.echo(f"point {nas_id}: an alert after {effective} minutes unheard")

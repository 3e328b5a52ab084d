"""The alert pages: alerts to acknowledge and close, rules, and the webhook dead-letter list.

Analysts and admins see and handle alerts (`view_dashboards`) and write rules
(`manage_alert_rules`). Every form carries the staff CSRF token; every action is audited.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from datetime import datetime
from typing import Annotated, Protocol
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.alerts.service import (
    STATES,
    acknowledge_alert,
    add_rule,
    close_alert,
    list_alerts,
    list_deliveries,
    list_rules,
    retry_delivery,
    set_rule_active,
)
from cautiva.errors import CautivaError, InvalidInput
from cautiva.models import Alert, DeliveryState, Severity, utcnow
from cautiva.points.service import list_points
from cautiva.staff.roles import Right, can
from cautiva.staff.service import Principal, audit
from portal_api.admin.auth import allowed
from portal_api.admin.pages import after, form_text, page, refused
from portal_api.deps import RuntimeDep, SessionDep
from portal_api.errors import status_of


class AlertAction(Protocol):
    """A change of an alert's state made in someone's name."""

    def __call__(
        self, session: AsyncSession, *, alert_id: int, by: str, now: datetime, webhooks: bool
    ) -> Awaitable[Alert]: ...


router = APIRouter(prefix="/admin/alerts", include_in_schema=False)

ViewAlerts = Annotated[Principal, allowed(Right.VIEW_DASHBOARDS)]
ManageRules = Annotated[Principal, allowed(Right.MANAGE_ALERT_RULES)]
FILTERS = (*STATES, "all")


def _refused(
    request: Request, principal: Principal, title: str, error: CautivaError
) -> HTMLResponse:
    return refused(request, principal, title, str(error), status_of(error))


def _webhook_target(url: str) -> str | None:
    # Only scheme and host: a webhook URL's path often carries the receiver's own token.
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}"


@router.get("", response_class=HTMLResponse)
async def alerts_page(
    request: Request, principal: ViewAlerts, session: SessionDep, state: str = "open"
) -> HTMLResponse:
    """The newest alerts in one state (open by default), with who handled them."""
    try:
        alerts = await list_alerts(session, state=state)
    except CautivaError as error:
        return _refused(request, principal, "Alerts", error)
    dead = await list_deliveries(session, states=(DeliveryState.DEAD.value,), limit=100)
    return page(
        request,
        "alerts.html",
        title="Alerts",
        principal=principal,
        alerts=alerts,
        state=state,
        filters=FILTERS,
        dead=len(dead),
        can_rules=can(principal.role, Right.MANAGE_ALERT_RULES),
    )


_ACTIONS: dict[str, tuple[AlertAction, str, str]] = {
    "acknowledge": (acknowledge_alert, "Acknowledge", "acknowledged"),
    "close": (close_alert, "Close", "closed"),
}


@router.post("/{alert_id}/{action}")
async def act_on_alert(
    alert_id: int,
    action: str,
    request: Request,
    principal: ViewAlerts,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    """Acknowledge an open alert (someone is on it), or close an open or acknowledged one."""
    if action not in _ACTIONS:
        return _refused(request, principal, "Alert", InvalidInput(f"no action {action!r}"))
    change, verb, done = _ACTIONS[action]
    now = utcnow()
    try:
        alert = await change(
            session,
            alert_id=alert_id,
            by=principal.actor,
            now=now,
            webhooks=bool(runtime.settings.alerts.webhook_url),
        )
    except CautivaError as error:
        return _refused(request, principal, verb, error)
    await audit(
        session, principal=principal, action=f"alert.{action}", target=str(alert.id), now=now
    )
    return after("/admin/alerts", f"Alert {alert.id} {done}.")


async def _rules_page(
    request: Request,
    principal: Principal,
    session: SessionDep,
    *,
    status_code: int = 200,
    error: str | None = None,
    form: Mapping[str, object] | None = None,
) -> HTMLResponse:
    return page(
        request,
        "alerts_rules.html",
        title="Alert rules",
        principal=principal,
        status_code=status_code,
        rules=await list_rules(session),
        points=[p for p in await list_points(session) if p.active],
        severities=[s.value for s in Severity],
        error=error,
        form=form or {},
    )


@router.get("/rules", response_class=HTMLResponse)
async def rules_page(request: Request, principal: ManageRules, session: SessionDep) -> HTMLResponse:
    """The rules, and the form to add one."""
    return await _rules_page(request, principal, session)


@router.post("/rules", response_class=HTMLResponse)
async def new_rule(request: Request, principal: ManageRules, session: SessionDep) -> Response:
    """Add a rule (checked first: a wrong expression is shown, not stored)."""
    form = await request.form()
    name, expression = form_text(form, "name"), form_text(form, "expression")
    severity = form_text(form, "severity")
    points = [v.strip() for v in form.getlist("points") if isinstance(v, str) and v.strip()]
    values = {"name": name, "expression": expression, "severity": severity, "points": points}
    now = utcnow()
    try:
        added = await add_rule(
            session,
            name=name,
            expression=expression,
            severity=severity,
            points=points,
            created_by=principal.actor,
            now=now,
        )
    except CautivaError as error:
        return await _rules_page(
            request, principal, session, status_code=status_of(error), error=str(error), form=values
        )
    await audit(
        session,
        principal=principal,
        action="alert_rule.add",
        target=added.rule.name,
        now=now,
        details={
            "expression": added.rule.expression,
            "severity": added.rule.severity,
            "points": points,
        },
    )
    done = "Rule added."
    if added.unknown:
        names = ", ".join(f"${{{name}}}" for name in added.unknown)
        done += f" Note: no published form asks {names} yet; the rule matches once one does."
    return after("/admin/alerts/rules", done)


@router.post("/rules/{rule_id}/{action}")
async def switch_rule(
    rule_id: int, action: str, request: Request, principal: ManageRules, session: SessionDep
) -> Response:
    """Enable or disable a rule."""
    if action not in ("enable", "disable"):
        return page(
            request,
            "message.html",
            title="Alert rules",
            principal=principal,
            status_code=404,
            text=f"no action {action!r} on a rule (enable, disable)",
        )
    now = utcnow()
    try:
        rule = await set_rule_active(session, ref=str(rule_id), active=action == "enable", now=now)
    except CautivaError as error:
        return _refused(request, principal, "Alert rules", error)
    await audit(
        session, principal=principal, action=f"alert_rule.{action}", target=rule.name, now=now
    )
    return after("/admin/alerts/rules", f"Rule {action}d.")


@router.get("/deliveries", response_class=HTMLResponse)
async def deliveries_page(
    request: Request, principal: ViewAlerts, session: SessionDep, runtime: RuntimeDep
) -> HTMLResponse:
    """Webhook deliveries that failed for good (to retry), and those still to be sent."""
    return page(
        request,
        "alerts_deliveries.html",
        title="Webhook deliveries",
        principal=principal,
        dead=await list_deliveries(session, states=(DeliveryState.DEAD.value,)),
        pending=await list_deliveries(session, states=(DeliveryState.PENDING.value,)),
        target=_webhook_target(runtime.settings.alerts.webhook_url),
    )


@router.post("/deliveries/{delivery_id}/retry")
async def retry(
    delivery_id: int, request: Request, principal: ViewAlerts, session: SessionDep
) -> Response:
    """Put a dead delivery back in the queue (sent with the next round)."""
    now = utcnow()
    try:
        delivery = await retry_delivery(session, delivery_id=delivery_id, now=now)
    except CautivaError as error:
        return _refused(request, principal, "Retry", error)
    await audit(
        session, principal=principal, action="webhook.retry", target=str(delivery.id), now=now
    )
    return after("/admin/alerts/deliveries", f"Delivery {delivery.id} queued again.")

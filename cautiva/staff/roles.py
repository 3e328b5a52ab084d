"""Roles and what each may do; the one table every admin route checks against."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A staff role."""

    ADMIN = "admin"
    TECHNICIAN = "technician"
    ANALYST = "analyst"


class Right(StrEnum):
    """Something a route needs."""

    VIEW_POINTS = "view_points"
    MANAGE_POINTS = "manage_points"
    MANAGE_SESSIONS = "manage_sessions"
    ROUTER_CONFIGS = "router_configs"
    MANAGE_MESSAGES = "manage_messages"
    VIEW_DASHBOARDS = "view_dashboards"
    EXPORT = "export"
    MANAGE_STAFF = "manage_staff"
    VIEW_AUDIT = "view_audit"
    MANAGE_REFERRALS = "manage_referrals"
    MANAGE_ALERT_RULES = "manage_alert_rules"


_TECHNICIAN = frozenset(
    {
        Right.VIEW_POINTS,
        Right.MANAGE_POINTS,
        Right.MANAGE_SESSIONS,
        Right.ROUTER_CONFIGS,
        Right.MANAGE_MESSAGES,
        Right.MANAGE_REFERRALS,
    }
)
_ANALYST = frozenset(
    {Right.VIEW_POINTS, Right.VIEW_DASHBOARDS, Right.EXPORT, Right.MANAGE_ALERT_RULES}
)

RIGHTS: dict[Role, frozenset[Right]] = {
    Role.ADMIN: frozenset(Right),
    Role.TECHNICIAN: _TECHNICIAN,
    Role.ANALYST: _ANALYST,
}


def can(role: Role | str, right: Right) -> bool:
    """Whether `role` holds `right`."""
    try:
        return right in RIGHTS[Role(role)]
    except ValueError:
        return False

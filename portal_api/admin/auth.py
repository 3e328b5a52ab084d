"""Who is calling: a bearer API token or a signed-in staff cookie, and whether they may.

Every admin route declares the right it needs with `Allowed(Right.X)`. No credentials: 401.
A role without the right: 403. The staff cookie is sealed (see `portal_api.state`) and carries
a CSRF token that every state-changing request made with the cookie must echo (a form field
`csrf` or the `X-CSRF-Token` header); bearer tokens are not sent by browsers on their own, so
they need none.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.database import transaction
from cautiva.models import utcnow
from cautiva.staff.roles import Right, can
from cautiva.staff.service import Principal, token_principal, user_principal
from portal_api.deps import RuntimeDep
from portal_api.state import Sealer

STAFF_COOKIE = "cautiva_staff"
STAFF_TTL = 12 * 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequired(HTTPException):
    """No valid credentials (the admin pages answer it with a redirect to the sign-in page)."""

    def __init__(self) -> None:
        super().__init__(
            status_code=401,
            detail="authentication required: sign in, or send Authorization: Bearer TOKEN",
            headers={"WWW-Authenticate": 'Bearer realm="cautiva"'},
        )


def staff_sealer(secret_key: str) -> Sealer:
    """The sealer of the staff session cookie."""
    return Sealer(secret_key, "staff-session", STAFF_TTL)


def new_staff_cookie(secret_key: str, user_id: int) -> tuple[str, str]:
    """A sealed cookie value for a signed-in user, and its CSRF token."""
    csrf = secrets.token_urlsafe(24)
    return staff_sealer(secret_key).seal({"uid": user_id, "csrf": csrf}), csrf


def cookie_data(request: Request) -> dict[str, Any] | None:
    """The opened staff cookie of this request, if any."""
    settings = request.app.state.runtime.settings
    return staff_sealer(settings.secret_key).open(request.cookies.get(STAFF_COOKIE))


async def principal_of(request: Request, session: AsyncSession) -> Principal | None:
    """The caller, from a bearer token first, else from the staff cookie."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return await token_principal(session, token.strip(), now=utcnow())
    data = cookie_data(request)
    if data is None or not isinstance(data.get("uid"), int):
        return None
    principal = await user_principal(session, data["uid"])
    if principal is not None and request.method not in SAFE_METHODS:
        sent = request.headers.get("x-csrf-token")
        content_type = request.headers.get("content-type", "")
        if sent is None and content_type.startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            form = await request.form()
            value = form.get("csrf")
            sent = value if isinstance(value, str) else None
        if not sent or not hmac.compare_digest(sent, str(data.get("csrf", ""))):
            raise HTTPException(status_code=403, detail="missing or wrong CSRF token")
    return principal


class Allowed:
    """A dependency that lets through callers whose role holds `right`."""

    def __init__(self, right: Right) -> None:
        self.right = right

    async def __call__(self, request: Request, runtime: RuntimeDep) -> Principal:
        # Its own short transaction: the route's work (a Disconnect-Request may wait seconds
        # for the router) must not hold a write lock taken by `last_used_at`.
        async with transaction(runtime.sessions) as session:
            principal = await principal_of(request, session)
        if principal is None:
            raise LoginRequired()
        if not can(principal.role, self.right):
            raise HTTPException(
                status_code=403,
                detail=f"the {principal.role.value} role may not do this ({self.right.value})",
            )
        request.state.principal = principal
        return principal


def allowed(right: Right) -> Any:
    """`Annotated` metadata for a route parameter that must hold `right`."""
    return Depends(Allowed(right))


ViewPoints = Annotated[Principal, allowed(Right.VIEW_POINTS)]
ManagePoints = Annotated[Principal, allowed(Right.MANAGE_POINTS)]
ManageSessions = Annotated[Principal, allowed(Right.MANAGE_SESSIONS)]
RouterConfigs = Annotated[Principal, allowed(Right.ROUTER_CONFIGS)]
ViewAudit = Annotated[Principal, allowed(Right.VIEW_AUDIT)]
ManageMessages = Annotated[Principal, allowed(Right.MANAGE_MESSAGES)]
ViewDashboards = Annotated[Principal, allowed(Right.VIEW_DASHBOARDS)]

"""The admin pages: server-rendered, usable on a phone, kept for offline reading by a worker.

Sign-in sets the sealed staff cookie; every form carries its CSRF token. Pages need the same
rights as the JSON API; without a session they send the browser to the sign-in page.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from cautiva.accounting.service import list_sessions
from cautiva.alerts.service import set_offline_minutes
from cautiva.content.media import MAX_POSTER_BYTES, store_video
from cautiva.content.service import list_portal_texts, portal_text, set_portal_text
from cautiva.errors import CautivaError, InvalidInput
from cautiva.fieldwork.service import Location, locations, overview, relocate, retire
from cautiva.forms.repository import SurveyFormRepository
from cautiva.forms.service import assign_form, list_forms
from cautiva.models import FormKind, NasType, Point, utcnow
from cautiva.points.service import (
    NewPoint,
    PointChanges,
    add_point,
    get_point,
    rotate_secret,
    update_point,
)
from cautiva.staff.roles import Right, can
from cautiva.staff.service import Principal, audit, authenticate
from portal_api.admin.api import send_disconnect
from portal_api.admin.auth import (
    STAFF_COOKIE,
    STAFF_TTL,
    ManageMessages,
    ManagePoints,
    ManageSessions,
    RouterConfigs,
    ViewPoints,
    cookie_data,
    new_staff_cookie,
)
from portal_api.deps import RuntimeDep, SessionDep
from portal_api.splash.render import environment
from portal_api.splash.texts import LANGUAGES

router = APIRouter(prefix="/admin", include_in_schema=False)

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "admin"
LOGIN_COOKIE = "cautiva_login"
CONFIGS = {
    NasType.MIKROTIK: [("routeros", "RouterOS script (.rsc)")],
    NasType.CHILLI: [("openwrt-chilli", "OpenWrt CoovaChilli script")],
    NasType.USPOT: [("openwrt-uspot", "OpenWrt uspot script")],
}


@cache
def _css() -> tuple[str, str]:
    css = (TEMPLATES / "admin.css").read_text().replace("\n", "")
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    return css, f"'sha256-{digest}'"


def _rights_of(principal: Principal | None) -> frozenset[str]:
    if principal is None:
        return frozenset()
    return frozenset(right.value for right in Right if can(principal.role, right))


def page(
    request: Request,
    template: str,
    *,
    title: str,
    status_code: int = 200,
    principal: Principal | None = None,
    **context: Any,
) -> HTMLResponse:
    """An admin page with the shared context and headers."""
    css, css_hash = _css()
    data = cookie_data(request)
    html = (
        environment()
        .get_template(f"admin/{template}")
        .render(
            title=title,
            css=Markup(css),  # noqa: S704 - our own stylesheet, not user input
            principal=principal,
            may=_rights_of(principal),
            flash=request.query_params.get("done"),
            **({"signed_out": False, "csrf": (data or {}).get("csrf", "")} | context),
        )
    )
    response = HTMLResponse(html, status_code=status_code)
    response.headers.update(
        {
            "Content-Security-Policy": (
                f"default-src 'none'; style-src {css_hash}; img-src data:; script-src 'self'; "
                "worker-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
                "frame-ancestors 'none'"
            ),
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
        }
    )
    return response


def after(path: str, done: str) -> RedirectResponse:
    """Back to `path` after a form, with its "done" line shown on top."""
    return RedirectResponse(f"{path}?done={quote(done)}", status_code=303)


def refused(
    request: Request, principal: Principal, title: str, text: str, status_code: int = 422
) -> HTMLResponse:
    """The page that says why a request was not done (422: a form that was not saved)."""
    return page(
        request,
        "message.html",
        title=title,
        principal=principal,
        status_code=status_code,
        text=text,
    )


async def _point_saved(
    session: AsyncSession, principal: Principal, point: Point, details: dict[str, Any], done: str
) -> RedirectResponse:
    """Audit a change of a point's settings and go back to its page."""
    await audit(
        session,
        principal=principal,
        action="point.set",
        target=point.nas_id,
        now=utcnow(),
        details=details,
    )
    return after(f"/admin/points/{quote(point.nas_id)}", done)


def form_text(form: FormData, name: str) -> str:
    """A form field as stripped text ("" when missing or a file)."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


@router.get("/app.js")
async def app_js() -> Response:
    """The one admin script (offline banner, service worker registration)."""
    return Response(
        (TEMPLATES / "app.js").read_text(),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache"},
    )


@router.get("/sw.js")
async def service_worker() -> Response:
    """The service worker that keeps admin pages for offline reading."""
    return Response(
        (TEMPLATES / "sw.js").read_text(),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/admin"},
    )


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "/admin") -> HTMLResponse:
    """The sign-in form (with a CSRF token bound to a short cookie)."""
    token = secrets.token_urlsafe(18)
    response = page(
        request,
        "login.html",
        title="Sign in",
        csrf=token,
        next=_safe_next(next),
        email="",
        error=None,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=1800,
        httponly=True,
        samesite="strict",
        path="/admin/",
        secure=request.url.scheme == "https",
    )
    return response


def _safe_next(target: str) -> str:
    # Only our own admin pages: never an open redirect.
    return target if target.startswith("/admin") and not target.startswith("//") else "/admin"


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    """Check the email and password; on success set the staff cookie."""
    form = await request.form()
    sent = form_text(form, "csrf")
    expected = request.cookies.get(LOGIN_COOKIE, "")
    email = form_text(form, "email")
    target = _safe_next(form_text(form, "next") or "/admin")
    if not sent or not secrets.compare_digest(sent, expected):
        return page(
            request,
            "login.html",
            title="Sign in",
            status_code=403,
            csrf=expected,
            next=target,
            email=email,
            error="The form expired: please try again.",
        )
    password = form.get("password")
    principal = await authenticate(
        session,
        email=email,
        password=password if isinstance(password, str) else "",
        now=utcnow(),
    )
    if principal is None:
        return page(
            request,
            "login.html",
            title="Sign in",
            status_code=401,
            csrf=expected,
            next=target,
            email=email,
            error="Wrong email or password.",
        )
    await audit(
        session, principal=principal, action="user.login", target=principal.name, now=utcnow()
    )
    cookie, _ = new_staff_cookie(runtime.settings.secret_key, principal.id)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        STAFF_COOKIE,
        cookie,
        max_age=STAFF_TTL,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/admin/")
    return response


@router.post("/logout", response_class=HTMLResponse)
async def logout(request: Request, principal: ViewPoints) -> HTMLResponse:
    """Forget the staff cookie (and the pages kept for offline use)."""
    response = page(
        request, "message.html", title="Signed out", text="You are signed out.", signed_out=True
    )
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    response.delete_cookie(STAFF_COOKIE, path="/")
    return response


@router.get("", response_class=HTMLResponse)
async def points_page(
    request: Request, principal: ViewPoints, session: SessionDep, runtime: RuntimeDep
) -> HTMLResponse:
    """Every point with its live status."""
    views = await overview(
        session, now=utcnow(), offline_after=runtime.settings.admin.offline_after
    )
    return page(
        request,
        "points.html",
        title="Points",
        principal=principal,
        points=views,
        can_manage=can(principal.role, Right.MANAGE_POINTS),
    )


@router.get("/points/new", response_class=HTMLResponse)
async def new_point_form(request: Request, principal: ManagePoints) -> HTMLResponse:
    """The form to add a point."""
    return page(
        request, "point_new.html", title="Add a point", principal=principal, form={}, error=None
    )


@router.post("/points/new", response_class=HTMLResponse)
async def new_point(request: Request, principal: ManagePoints, session: SessionDep) -> Response:
    """Add a point, then show it."""
    form = await request.form()
    values = {
        name: form_text(form, name)
        for name in ("name", "nas_id", "nas_type", "department", "municipality", "site_type")
    }
    try:
        point = await add_point(
            session,
            new=NewPoint(
                name=values["name"],
                nas_id=values["nas_id"],
                nas_type=NasType(values["nas_type"]),
                department=values["department"] or None,
                municipality=values["municipality"] or None,
                site_type=values["site_type"] or None,
            ),
        )
    except (CautivaError, ValueError) as error:
        return page(
            request,
            "point_new.html",
            title="Add a point",
            principal=principal,
            status_code=422,
            form=values,
            error=str(error),
        )
    await audit(
        session,
        principal=principal,
        action="point.add",
        target=point.nas_id,
        now=utcnow(),
        details={"nas_type": point.nas_type},
    )
    return after(f"/admin/points/{quote(point.nas_id)}", "Point added.")


@router.get("/points/{nas_id}", response_class=HTMLResponse)
async def point_page(
    nas_id: str,
    request: Request,
    principal: ViewPoints,
    session: SessionDep,
    runtime: RuntimeDep,
) -> HTMLResponse:
    """One point: status, scripts, sessions, moves."""
    point = await get_point(session, ref=nas_id)
    full, followup = await _current_forms(session, point.id)
    (status,) = await overview(
        session,
        now=utcnow(),
        offline_after=runtime.settings.admin.offline_after,
        point_ids=[point.id],
    )
    return page(
        request,
        "point.html",
        title=point.name,
        principal=principal,
        point=point,
        status=status,
        sessions=await list_sessions(session, point_id=point.id),
        locations=await locations(session, point_id=point.id),
        configs=CONFIGS[NasType(point.nas_type)],
        can_manage=can(principal.role, Right.MANAGE_POINTS),
        can_configs=can(principal.role, Right.ROUTER_CONFIGS),
        can_sessions=can(principal.role, Right.MANAGE_SESSIONS),
        forms=await list_forms(session),
        current_full=full,
        current_followup=followup,
        offline_default=runtime.settings.alerts.offline_minutes,
    )


async def _current_forms(session: SessionDep, point_id: int) -> tuple[str | None, str | None]:
    assignment = await SurveyFormRepository(session).assignment(point_id)
    names: list[str | None] = []
    for row_id in (
        assignment.full_form_id if assignment else None,
        assignment.followup_form_id if assignment else None,
    ):
        row = await SurveyFormRepository(session).get(row_id) if row_id else None
        names.append(f"{row.form_id} {row.version}" if row else None)
    return names[0], names[1]


@router.post("/points/{nas_id}/forms")
async def set_forms(
    nas_id: str, request: Request, principal: ManagePoints, session: SessionDep
) -> Response:
    """Choose the published forms the point shows (first-time and returning people)."""
    form = await request.form()
    point = await get_point(session, ref=nas_id)
    chosen = {}
    for field, kind in (("full", FormKind.FULL), ("followup", FormKind.FOLLOWUP)):
        value = form_text(form, field)
        if not value:
            continue
        form_id, _, version = value.partition("@")
        try:
            await assign_form(
                session,
                point_ref=point.nas_id,
                form_id=form_id,
                version=version or None,
                kind=kind,
            )
        except CautivaError as error:
            return refused(request, principal, "Survey forms", str(error))
        chosen[field] = value
    await audit(
        session,
        principal=principal,
        action="point.forms",
        target=point.nas_id,
        now=utcnow(),
        details=chosen,
    )
    return after(f"/admin/points/{quote(point.nas_id)}", "Forms saved.")


@router.get("/points/{nas_id}/config")
async def point_config(
    nas_id: str,
    principal: RouterConfigs,
    session: SessionDep,
    runtime: RuntimeDep,
    router_kind: Annotated[str, Query(alias="router")],
) -> Response:
    """Download the point's setup script."""
    from portal_api.admin.api import point_config as api_config

    return await api_config(nas_id, principal, session, runtime, router_kind)


@router.get("/points/{nas_id}/poster")
async def point_poster(
    nas_id: str, principal: RouterConfigs, session: SessionDep, runtime: RuntimeDep
) -> Response:
    """Download the point's poster."""
    from portal_api.admin.api import point_poster as api_poster

    return await api_poster(nas_id, principal, session, runtime)


@router.post("/points/{nas_id}/relocate")
async def relocate_point(
    nas_id: str, request: Request, principal: ManagePoints, session: SessionDep
) -> Response:
    """Record a move (the history keeps the old place)."""
    form = await request.form()
    point = await get_point(session, ref=nas_id)
    to = Location(
        department=form_text(form, "department") or None,
        municipality=form_text(form, "municipality") or None,
        site_type=form_text(form, "site_type") or None,
    )
    now = utcnow()
    await relocate(session, point=point, to=to, moved_by=principal.actor, now=now)
    await audit(
        session,
        principal=principal,
        action="point.relocate",
        target=point.nas_id,
        now=now,
        details={"municipality": to.municipality, "department": to.department},
    )
    return after(f"/admin/points/{quote(point.nas_id)}", "Move recorded.")


@router.post("/points/{nas_id}/edit")
async def edit_point(
    nas_id: str, request: Request, principal: ManagePoints, session: SessionDep
) -> Response:
    """Rename a point or change its SSID (the script and poster must then be redone)."""
    form = await request.form()
    name, ssid = form_text(form, "name"), form_text(form, "ssid")
    try:
        point = await update_point(
            session,
            ref=nas_id,
            changes=PointChanges(name=name, ssid=ssid or None, clear_ssid=not ssid),
        )
    except CautivaError as error:
        return refused(request, principal, "Edit", str(error))
    return await _point_saved(session, principal, point, {"name": name, "ssid": ssid}, "Saved.")


@router.post("/points/{nas_id}/bandwidth")
async def set_bandwidth(
    nas_id: str, request: Request, principal: ManagePoints, session: SessionDep
) -> Response:
    """Set the point's per-person bandwidth (sent by RADIUS in each Access-Accept)."""
    form = await request.form()
    rates: dict[str, int | None] = {}
    for field in ("rate_down", "rate_up"):
        raw = form_text(form, field)
        if raw and not raw.isdigit():
            return refused(
                request, principal, "Bandwidth", f"{field}: a whole number of kbit/s, please"
            )
        rates[field] = int(raw) if raw else None
    point = await update_point(
        session,
        ref=nas_id,
        changes=PointChanges(rate_down_kbps=rates["rate_down"], rate_up_kbps=rates["rate_up"]),
    )
    return await _point_saved(
        session,
        principal,
        point,
        {k: v for k, v in rates.items() if v is not None},
        "Bandwidth saved.",
    )


@router.post("/points/{nas_id}/offline-alert")
async def set_offline_alert(
    nas_id: str, request: Request, principal: ManagePoints, session: SessionDep
) -> Response:
    """Set how long the point may stay unheard before an offline alert (empty: the default)."""
    raw = form_text(await request.form(), "minutes")
    try:
        if raw and not raw.isdigit():
            raise InvalidInput("minutes: a whole number, please")
        point = await set_offline_minutes(
            session, point_ref=nas_id, minutes=int(raw) if raw else None
        )
    except CautivaError as error:
        return refused(request, principal, "Offline alert", str(error))
    return await _point_saved(
        session,
        principal,
        point,
        {"offline_alert_minutes": point.offline_alert_minutes},
        "Offline alert saved.",
    )


@router.post("/points/{nas_id}/rotate")
async def rotate_point_secret(
    nas_id: str, principal: ManagePoints, session: SessionDep
) -> Response:
    """Give the point a new RADIUS secret (the router must get the new script)."""
    point = await rotate_secret(session, ref=nas_id)
    await audit(
        session,
        principal=principal,
        action="point.rotate_secret",
        target=point.nas_id,
        now=utcnow(),
    )
    return after(
        f"/admin/points/{quote(point.nas_id)}",
        "New secret: download the script again and apply it on the router.",
    )


@router.post("/points/{nas_id}/retire")
async def retire_point(nas_id: str, principal: ManagePoints, session: SessionDep) -> Response:
    """Take the point out of service."""
    point = await get_point(session, ref=nas_id)
    await retire(session, point=point, now=utcnow())
    await audit(
        session, principal=principal, action="point.retire", target=point.nas_id, now=utcnow()
    )
    return after(f"/admin/points/{quote(point.nas_id)}", "Point retired.")


@router.post("/sessions/{session_id}/disconnect", response_class=HTMLResponse)
async def disconnect_page(
    session_id: int, request: Request, principal: ManageSessions, runtime: RuntimeDep
) -> HTMLResponse:
    """Cut a session and show how the router answered."""
    result = await send_disconnect(runtime, principal, session_id)
    answers = {
        "ack": "The router confirmed (Disconnect-ACK).",
        "nak": "The router refused (Disconnect-NAK).",
        "timeout": "The router did not answer.",
        "error": "Could not send the request.",
    }
    text = answers.get(result.result, result.result)
    if result.detail:
        text += f" {result.detail}"
    return page(request, "message.html", title="Disconnect", principal=principal, text=text)


def install_admin_handlers(app: FastAPI) -> None:
    """Admin pages answer a missing sign-in with the sign-in page and a refusal with a page."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        path = request.url.path
        if path.startswith("/admin") and error.status_code == 401:
            return RedirectResponse(f"/admin/login?next={quote(path)}", status_code=303)
        if path.startswith("/admin") and error.status_code in (403, 404):
            return page(
                request,
                "message.html",
                title="Not allowed" if error.status_code == 403 else "Not found",
                status_code=error.status_code,
                text=str(error.detail),
            )
        return await http_exception_handler(request, error)


@router.get("/messages", response_class=HTMLResponse)
async def messages_page(
    request: Request, principal: ManageMessages, session: SessionDep, runtime: RuntimeDep
) -> HTMLResponse:
    """The stored messages and the form to set one (text, video, poster frame)."""
    return page(
        request,
        "messages.html",
        title="Messages",
        principal=principal,
        texts=[t for t in await list_portal_texts(session) if t.key == "message"],
        languages=list(LANGUAGES.items()),
        max_mb=runtime.settings.admin.video_max_mb,
        error=None,
    )


async def _upload(form: FormData, name: str, limit: int) -> tuple[str, bytes] | None:
    value = form.get(name)
    if not isinstance(value, StarletteUploadFile) or not value.filename:
        return None
    data = await value.read(limit + 1)
    return value.filename, data


@router.post("/messages", response_class=HTMLResponse)
async def set_message(
    request: Request, principal: ManageMessages, session: SessionDep, runtime: RuntimeDep
) -> Response:
    """Save a message for a language (and a point), with an optional video and poster."""
    settings = runtime.settings
    limit = settings.admin.video_max_mb * 1024 * 1024
    # Starlette spools big parts to disk; the file's size is checked on reading, to the limit.
    form = await request.form(max_files=2, max_fields=10)
    lang, ref, body = form_text(form, "lang"), form_text(form, "point"), form_text(form, "body")
    try:
        point = await get_point(session, ref=ref) if ref else None
        video = await _upload(form, "video", limit)
        poster = await _upload(form, "poster", MAX_POSTER_BYTES)
        name = None
        if video is not None:
            name = store_video(
                settings.data_dir, filename=video[0], data=video[1], max_bytes=limit, poster=poster
            )
        else:
            current = await portal_text(session, key="message", lang=lang, point=point)
            if current.source == ("point" if point else "global"):
                name = current.video
        await set_portal_text(session, key="message", lang=lang, body=body, point=point, video=name)
    except CautivaError as error:
        return page(
            request,
            "messages.html",
            title="Messages",
            principal=principal,
            status_code=422,
            texts=[t for t in await list_portal_texts(session) if t.key == "message"],
            languages=list(LANGUAGES.items()),
            max_mb=settings.admin.video_max_mb,
            error=str(error),
        )
    await audit(
        session,
        principal=principal,
        action="message.set",
        target=point.nas_id if point else "*",
        now=utcnow(),
        details={"lang": lang, "video": name},
    )
    return after("/admin/messages", "Message saved.")

"""`/api/v1/admin`: points, their sessions and router configs, for scripts and the admin pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse, Response

from cautiva.accounting.service import disconnect_target, list_sessions
from cautiva.database import transaction
from cautiva.errors import InvalidInput
from cautiva.fieldwork.service import Location, locations, overview, relocate, retire
from cautiva.models import NasType, Point, utcnow
from cautiva.points.service import (
    NewPoint,
    PointChanges,
    add_point,
    get_point,
    rotate_secret,
    update_point,
)
from cautiva.staff.service import Principal, audit, audit_entries
from portal_api.admin.auth import ManagePoints, ManageSessions, RouterConfigs, ViewAudit, ViewPoints
from portal_api.admin.schemas import (
    AuditOut,
    DisconnectOut,
    LocationOut,
    PointIn,
    PointOut,
    PointPatch,
    PointStatusOut,
    SessionOut,
)
from portal_api.deps import RuntimeDep, SessionDep

router = APIRouter(
    prefix="/api/v1/admin",
    tags=["admin"],
    responses={
        401: {"description": "No credentials: sign in or send `Authorization: Bearer TOKEN`"},
        403: {"description": "The caller's role lacks the right this route needs"},
    },
)


def status_out(view: object) -> PointStatusOut:
    """The overview line as the API shows it."""
    return PointStatusOut.model_validate(view, from_attributes=True)


async def point_out(session: SessionDep, point: Point, *, offline_after: int) -> PointOut:
    """A point with its status and its places."""
    (status,) = await overview(
        session, now=utcnow(), offline_after=offline_after, point_ids=[point.id]
    )
    places = await locations(session, point_id=point.id)
    data = PointOut.model_validate(point, from_attributes=True)
    data.status = status_out(status)
    data.locations = [LocationOut.model_validate(p, from_attributes=True) for p in places]
    return data


@router.get("/points", response_model=list[PointStatusOut])
async def list_points_status(
    principal: ViewPoints, session: SessionDep, runtime: RuntimeDep
) -> list[PointStatusOut]:
    """Every point with online/offline, last seen, sessions open now and today's funnel."""
    views = await overview(
        session, now=utcnow(), offline_after=runtime.settings.admin.offline_after
    )
    return [status_out(v) for v in views]


@router.post("/points", response_model=PointOut, status_code=201)
async def create_point(
    body: PointIn, principal: ManagePoints, session: SessionDep, runtime: RuntimeDep
) -> PointOut:
    """Add a point; its RADIUS (and UAM) secret is generated unless given."""
    point = await add_point(
        session,
        new=NewPoint(
            name=body.name,
            nas_id=body.nas_id,
            nas_type=NasType(body.nas_type),
            secret=body.secret,
            fixed_address=body.fixed_address,
            coa_port=body.coa_port,
            department=body.department,
            municipality=body.municipality,
            site_type=body.site_type,
            latitude=body.latitude,
            longitude=body.longitude,
        ),
    )
    await audit(
        session,
        principal=principal,
        action="point.add",
        target=point.nas_id,
        now=utcnow(),
        details={"nas_type": point.nas_type},
    )
    return await point_out(session, point, offline_after=runtime.settings.admin.offline_after)


@router.get("/points/{nas_id}", response_model=PointOut)
async def show_point(
    nas_id: str, principal: ViewPoints, session: SessionDep, runtime: RuntimeDep
) -> PointOut:
    """One point: settings, status, places."""
    point = await get_point(session, ref=nas_id)
    return await point_out(session, point, offline_after=runtime.settings.admin.offline_after)


@router.patch("/points/{nas_id}", response_model=PointOut)
async def change_point(
    nas_id: str,
    body: PointPatch,
    principal: ManagePoints,
    session: SessionDep,
    runtime: RuntimeDep,
) -> PointOut:
    """Change settings, move (relocate), rotate the secret or retire a point."""
    now = utcnow()
    point = await get_point(session, ref=nas_id)
    changes = PointChanges(
        name=body.name,
        ssid=body.ssid or None,
        clear_ssid=body.ssid == "",
        coa_port=body.coa_port,
        require_message_authenticator=body.require_message_authenticator,
        fixed_address=body.fixed_address,
        clear_fixed_address=body.clear_fixed_address,
        rate_down_kbps=body.rate_down_kbps,
        rate_up_kbps=body.rate_up_kbps,
    )
    point = await update_point(session, ref=point.nas_id, changes=changes)
    changed = body.model_dump(exclude_unset=True, exclude={"relocate", "retire", "rotate_secret"})
    if changed:
        await audit(
            session,
            principal=principal,
            action="point.set",
            target=point.nas_id,
            now=now,
            details=changed,
        )
    if body.relocate is not None:
        await relocate(
            session,
            point=point,
            to=Location(**body.relocate.model_dump()),
            moved_by=principal.actor,
            now=now,
        )
        await audit(
            session,
            principal=principal,
            action="point.relocate",
            target=point.nas_id,
            now=now,
            details=body.relocate.model_dump(),
        )
    if body.rotate_secret:
        point = await rotate_secret(session, ref=point.nas_id)
        await audit(
            session, principal=principal, action="point.rotate_secret", target=point.nas_id, now=now
        )
    if body.retire:
        await retire(session, point=point, now=now)
        await audit(
            session, principal=principal, action="point.retire", target=point.nas_id, now=now
        )
    return await point_out(session, point, offline_after=runtime.settings.admin.offline_after)


@router.get(
    "/points/{nas_id}/config",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}, "description": "The setup script"}},
)
async def point_config(
    nas_id: str,
    principal: RouterConfigs,
    session: SessionDep,
    runtime: RuntimeDep,
    router_kind: Annotated[str, Query(alias="router")],
) -> PlainTextResponse:
    """The ready-to-paste setup script for the point's router (`routeros`, `openwrt-*`)."""
    from router_configs import RouterKind, render_config

    point = await get_point(session, ref=nas_id)
    try:
        kind = RouterKind(router_kind)
    except ValueError:
        raise InvalidInput(
            f"unknown router {router_kind!r} (routeros, openwrt-chilli, openwrt-uspot)"
        ) from None
    rendered = render_config(point, kind, settings=runtime.settings)
    await audit(
        session,
        principal=principal,
        action="point.config",
        target=point.nas_id,
        now=utcnow(),
        details={"router": kind.value},
    )
    return PlainTextResponse(
        rendered.text,
        media_type=rendered.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{rendered.filename}"',
            "Cache-Control": "no-store",
        },
    )


@router.get(
    "/points/{nas_id}/poster",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}, "description": "The printable poster"}},
)
async def point_poster(
    nas_id: str, principal: RouterConfigs, session: SessionDep, runtime: RuntimeDep
) -> Response:
    """The point's printable poster (SVG, four languages, Wi-Fi join QR code)."""
    from router_configs import render_poster

    point = await get_point(session, ref=nas_id)
    return Response(
        render_poster(point, settings=runtime.settings),
        media_type="image/svg+xml",
        headers={"Content-Disposition": f'attachment; filename="cautiva-{point.nas_id}.svg"'},
    )


@router.get("/points/{nas_id}/sessions", response_model=list[SessionOut])
async def point_sessions(
    nas_id: str,
    principal: ViewPoints,
    session: SessionDep,
    all_sessions: Annotated[bool, Query(alias="all")] = False,
) -> list[SessionOut]:
    """The point's live sessions (`?all=true`: the latest ones, closed included)."""
    point = await get_point(session, ref=nas_id)
    rows = await list_sessions(session, point_id=point.id, open_only=not all_sessions)
    return [
        SessionOut(
            id=row.id,
            username=row.username,
            acct_session_id=row.acct_session_id,
            mac=row.mac,
            framed_ip=row.framed_ip,
            started_at=row.started_at,
            updated_at=row.updated_at,
            stopped_at=row.stopped_at,
            session_time=row.session_time,
            input_bytes=row.input_bytes,
            output_bytes=row.output_bytes,
        )
        for row in rows
    ]


@router.post("/sessions/{session_id}/disconnect", response_model=DisconnectOut)
async def disconnect(
    session_id: int, principal: ManageSessions, runtime: RuntimeDep
) -> DisconnectOut:
    """Cut a session with an RFC 5176 Disconnect-Request and say how the router answered."""
    return await send_disconnect(runtime, principal, session_id)


async def send_disconnect(
    runtime: RuntimeDep, principal: Principal, session_id: int
) -> DisconnectOut:
    """Send the Disconnect-Request (no transaction held while waiting for the router)."""
    from radius.dictionary import load_dictionary
    from radius.enforcement import disconnect_session

    async with transaction(runtime.sessions) as session:
        target = await disconnect_target(session, session_id=session_id)
    result = await disconnect_session(runtime, target, dictionary=load_dictionary())
    async with transaction(runtime.sessions) as session:
        await audit(
            session,
            principal=principal,
            action="session.disconnect",
            target=str(session_id),
            now=utcnow(),
            details={"result": result.result},
        )
    return DisconnectOut(
        session_id=session_id,
        result=result.result,
        attempts=result.attempts,
        error_cause=result.error_cause,
        detail=result.detail or None,
    )


@router.get("/audit", response_model=list[AuditOut])
async def audit_log(principal: ViewAudit, session: SessionDep) -> list[AuditOut]:
    """The newest admin actions (admin role)."""
    return [AuditOut.model_validate(e, from_attributes=True) for e in await audit_entries(session)]

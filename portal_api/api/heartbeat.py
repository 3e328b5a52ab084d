"""`POST /api/v1/points/{nas_id}/heartbeat`: a router says it is alive, even with nobody online."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Response

from cautiva.credentials import heartbeat_key
from cautiva.fieldwork.service import record_heartbeat
from cautiva.models import utcnow
from portal_api.api.points import active_point
from portal_api.deps import RuntimeDep, SessionDep

router = APIRouter(prefix="/api/v1/points", tags=["routers"])


@router.post(
    "/{nas_id}/heartbeat",
    status_code=204,
    response_class=Response,
    responses={403: {"description": "Wrong key"}, 404: {"description": "No such point"}},
)
async def heartbeat(
    nas_id: str,
    key: Annotated[str, Form(max_length=128)],
    uptime: Annotated[int, Form(ge=0)],
    load: Annotated[float, Form(ge=0)],
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    """Record the router's uptime (seconds) and 1-minute load; `key` is the point's key."""
    point = await active_point(session, nas_id)
    expected = heartbeat_key(runtime.settings.secret_key, point.nas_id)
    if not hmac.compare_digest(key.encode(), expected.encode()):
        raise HTTPException(status_code=403, detail="wrong heartbeat key for this point")
    await record_heartbeat(session, point=point, uptime=uptime, load=load, now=utcnow())
    return Response(status_code=204)

"""`GET /api/v1/captive-portal`: the Captive Portal API (RFC 8908) for the devices of a point.

The router advertises this URL with the point's NAS-Identifier in it (`?nas=...`, through DHCP
option 114 of RFC 8910 or its own configuration): the portal runs centrally and usually sees
only the router's NAT'd address, so the point cannot be told from the request's source.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Cookie, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from cautiva.errors import NotFound
from cautiva.models import utcnow
from cautiva.sessions.service import device_status
from portal_api.api.points import active_point
from portal_api.deps import RuntimeDep, SessionDep
from portal_api.state import DEVICE_COOKIE, Sealer, device_sealer

CAPTIVE_JSON = "application/captive+json"
# RFC 8908 section 5: the state is per client and changes at any moment; no cache may keep it.
NO_STORE = "private, no-store"

router = APIRouter(prefix="/api/v1", tags=["captive portal"])


class CaptiveJSONResponse(JSONResponse):
    """JSON served as `application/captive+json` (RFC 8908 section 5)."""

    media_type = CAPTIVE_JSON


class CaptiveStateOut(BaseModel):
    """The API state structure of RFC 8908 section 5 (keys as the RFC spells them)."""

    model_config = ConfigDict(populate_by_name=True)

    captive: bool = Field(description="True while the device has no internet access.")
    user_portal_url: str = Field(
        alias="user-portal-url", description="The point's splash page, where access is granted."
    )
    seconds_remaining: int | None = Field(
        default=None,
        alias="seconds-remaining",
        ge=0,
        description="Seconds until the device is captive again; only when not captive.",
    )


class ErrorOut(BaseModel):
    """Why the request was refused."""

    detail: str


@router.get(
    "/captive-portal",
    response_model=CaptiveStateOut,
    response_model_exclude_none=True,
    response_class=CaptiveJSONResponse,
    responses={
        404: {
            "description": "No `nas`, or no such point in service",
            # Errors go through the app's handler as plain JSON, not as captive+json.
            "content": {"application/json": {"schema": ErrorOut.model_json_schema()}},
        }
    },
)
async def captive_portal(
    request: Request,
    response: Response,
    session: SessionDep,
    runtime: RuntimeDep,
    nas: Annotated[
        str | None, Query(description="NAS-Identifier of the point the device is connected to")
    ] = None,
    device: Annotated[
        str | None,
        Cookie(alias=DEVICE_COOKIE, description="Sealed grant the browser logged in with"),
    ] = None,
) -> CaptiveStateOut:
    """Whether this device is captive at point `nas`, and how long its session has left."""
    if not nas:
        raise NotFound("the captive portal API needs the point's NAS-Identifier in `nas`")
    point = await active_point(session, nas)
    settings = runtime.settings
    response.headers["Cache-Control"] = NO_STORE
    status = await device_status(
        session,
        point=point,
        username=device_username(device, secret_key=settings.secret_key, nas_id=point.nas_id),
        address=request.client.host if request.client else None,
        now=utcnow(),
        rules=runtime.rules,
    )
    portal = portal_url(request, settings.portal.public_url, point.nas_id)
    # RFC 8908 section 5 defines captive as "has not satisfied the conditions to access the
    # external network". A session whose time is used up no longer satisfies them: the router
    # cuts it within the overrun grace. Saying captive now lets the phone show the portal at
    # once (where a returning person gets the short form) instead of a dead connection, and
    # the RFC says to omit seconds-remaining for captive clients.
    if status is None or status.time_used_up:
        return CaptiveStateOut(captive=True, user_portal_url=portal)
    return CaptiveStateOut(
        captive=False, user_portal_url=portal, seconds_remaining=status.seconds_remaining
    )


def device_username(raw: str | None, *, secret_key: str, nas_id: str) -> str | None:
    """The grant username in a device cookie, if it is intact, unexpired and for this point."""
    value = _device_sealer(secret_key).open(raw)
    if value is None or value.get("n") != nas_id:
        return None
    username = value.get("u")
    return username if isinstance(username, str) and username else None


def portal_url(request: Request, public_url: str, nas_id: str) -> str:
    """The point's splash page under the configured public URL, else the request's base."""
    base = (public_url or str(request.base_url)).rstrip("/")
    return f"{base}/p/{quote(nas_id, safe='')}"


@lru_cache(maxsize=4)
def _device_sealer(secret_key: str) -> Sealer:
    """The device cookie's sealer, keyed once per process rather than once per request."""
    return device_sealer(secret_key)

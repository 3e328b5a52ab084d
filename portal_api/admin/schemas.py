"""Bodies of the admin JSON API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class PointStatusOut(BaseModel):
    """A point with its live status and today's figures."""

    id: int
    nas_id: str
    name: str
    nas_type: str
    active: bool
    department: str | None
    municipality: str | None
    online: bool
    last_seen_at: datetime | None
    uptime_seconds: int | None
    load_1m: float | None
    sessions_open: int
    sessions_today: int
    splash_opened_today: int
    surveys_today: int
    logins_today: int
    completion_rate: float | None = Field(
        description="Surveys completed today / splash pages opened today"
    )


class LocationOut(BaseModel):
    """One place a point stood."""

    department: str | None
    municipality: str | None
    site_type: str | None
    latitude: float | None
    longitude: float | None
    valid_from: datetime
    valid_to: datetime | None
    moved_by: str


class PointOut(BaseModel):
    """A point's settings, secrets included (technicians paste them into routers)."""

    id: int
    nas_id: str
    name: str
    nas_type: str
    active: bool
    radius_secret: str
    uam_secret: str | None
    fixed_address: str | None
    coa_port: int
    require_message_authenticator: bool
    rate_down_kbps: int | None
    rate_up_kbps: int | None
    department: str | None
    municipality: str | None
    site_type: str | None
    latitude: float | None
    longitude: float | None
    ssid: str | None
    retired_at: datetime | None
    status: PointStatusOut | None = None
    locations: list[LocationOut] = []


class PointIn(BaseModel):
    """A new point."""

    name: str = Field(min_length=1, max_length=120)
    nas_id: str = Field(min_length=1, max_length=64)
    nas_type: Literal["mikrotik", "chilli", "uspot"]
    secret: str | None = Field(default=None, min_length=16, max_length=64)
    fixed_address: str | None = None
    coa_port: int = Field(default=3799, ge=1, le=65535)
    department: str | None = Field(default=None, max_length=120)
    municipality: str | None = Field(default=None, max_length=120)
    site_type: str | None = Field(default=None, max_length=40)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class LocationIn(BaseModel):
    """Where a point moves to."""

    department: str | None = Field(default=None, max_length=120)
    municipality: str | None = Field(default=None, max_length=120)
    site_type: str | None = Field(default=None, max_length=40)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class PointPatch(BaseModel):
    """Changes to a point; absent fields stay as they are."""

    name: str | None = Field(default=None, min_length=1, max_length=120)
    ssid: str | None = Field(default=None, max_length=32, description="Empty: the point's name")
    coa_port: int | None = Field(default=None, ge=1, le=65535)
    require_message_authenticator: bool | None = None
    fixed_address: str | None = None
    clear_fixed_address: bool = False
    rate_down_kbps: int | None = Field(default=None, ge=0)
    rate_up_kbps: int | None = Field(default=None, ge=0)
    relocate: LocationIn | None = Field(
        default=None, description="Move the point: its history keeps the old place, dated"
    )
    retire: bool = Field(default=False, description="Take the point out of service for good")
    rotate_secret: bool = Field(default=False, description="Give the point a new RADIUS secret")


class SessionOut(BaseModel):
    """A router session at a point."""

    id: int
    username: str
    acct_session_id: str
    mac: str | None
    framed_ip: str | None
    started_at: datetime | None
    updated_at: datetime
    stopped_at: datetime | None
    session_time: int
    input_bytes: int
    output_bytes: int


class DisconnectOut(BaseModel):
    """How the router answered the Disconnect-Request."""

    session_id: int
    result: Literal["ack", "nak", "timeout", "error"]
    attempts: int
    error_cause: int | None
    detail: str | None


class AuditOut(BaseModel):
    """One line of the audit log."""

    at: datetime
    actor: str
    action: str
    target: str
    details: dict[str, object]

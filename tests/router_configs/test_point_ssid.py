"""A point's SSID in the database, and a router script for a stored point (suite database)."""

from __future__ import annotations

import uuid

import pytest

from cautiva.database import transaction
from cautiva.errors import InvalidInput
from cautiva.models import NasType
from cautiva.points.service import (
    NewPoint,
    PointChanges,
    add_point,
    check_ssid,
    get_point,
    point_ssid,
    update_point,
)
from cautiva.runtime import Runtime
from router_configs import RouterKind, render_config
from router_configs.routeros_syntax import check_routeros


async def test_ssid_is_stored_changed_and_cleared(runtime: Runtime) -> None:
    nas_id = f"ssid-{uuid.uuid4().hex[:8]}"
    async with transaction(runtime.sessions) as session:
        point = await add_point(
            session,
            new=NewPoint(
                name="Terminal Norte", nas_id=nas_id, nas_type=NasType.MIKROTIK, ssid="Wi-Fi Ñ"
            ),
        )
        assert point.ssid == "Wi-Fi Ñ"
    async with transaction(runtime.sessions) as session:
        stored = await get_point(session, ref=nas_id)
        assert stored.ssid == "Wi-Fi Ñ" and point_ssid(stored) == "Wi-Fi Ñ"
        await update_point(session, ref=nas_id, changes=PointChanges(ssid="Otra red"))
    async with transaction(runtime.sessions) as session:
        assert (await get_point(session, ref=nas_id)).ssid == "Otra red"
        cleared = await update_point(session, ref=nas_id, changes=PointChanges(clear_ssid=True))
        assert cleared.ssid is None and point_ssid(cleared) == "Terminal Norte"
    async with transaction(runtime.sessions) as session:
        stored = await get_point(session, ref=nas_id)
        runtime.settings.router.radius_address = "203.0.113.10"
        rendered = render_config(stored, RouterKind.ROUTEROS, settings=runtime.settings)
        assert check_routeros(rendered.text) == []
        assert f'/system identity set name="{nas_id}"' in rendered.text
        assert f'secret="{stored.radius_secret}"' in rendered.text


def test_ssid_rules() -> None:
    assert check_ssid("x" * 32) == "x" * 32
    assert check_ssid("ñ" * 16) == "ñ" * 16
    for bad in ("", "   ", "x" * 33, "ñ" * 17, "tab\there", "line\nbreak"):
        with pytest.raises(InvalidInput):
            check_ssid(bad)

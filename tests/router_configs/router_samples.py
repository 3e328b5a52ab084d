"""Sample points and settings for the router script tests, fixed so that output is stable."""

from __future__ import annotations

import re
from pathlib import Path

from cautiva.models import NasType, Point
from cautiva.settings import (
    PortalSettings,
    RadiusSettings,
    RouterSettings,
    SessionSettings,
    Settings,
)

GOLDEN = Path(__file__).resolve().parent / "golden"
SECRET_KEY = "router-configs-test-key-" + "r" * 40
PORTAL = "https://portal.cautiva.example"


def sample_settings(**router: str) -> Settings:
    """Settings with every value the scripts read given explicitly (the environment is ignored)."""
    values: dict[str, str] = {
        "radius_address": "203.0.113.10",
        "radius_address_2": "198.51.100.20",
        "portal_url": "",
        "captive_network": "10.1.0.0/24",
        "hotspot_interface": "bridge-hotspot",
    }
    values.update(router)
    return Settings(
        env="development",
        secret_key=SECRET_KEY,
        router=RouterSettings(**values),
        portal=PortalSettings(public_url=PORTAL, port=8000),
        session=SessionSettings(interim_interval=300),
        radius=RadiusSettings(auth_port=1812, acct_port=1813),
    )


def sample_point(nas_type: NasType, **changes: object) -> Point:
    """A point as the database would hold it (not stored anywhere)."""
    names = {
        NasType.MIKROTIK: ("Terminal de Transportes Cúcuta", "cucuta-terminal", None),
        NasType.CHILLI: ("Paso Fronterizo Rumichaca", "rumichaca-1", "Wi-Fi Gratis Rumichaca"),
        NasType.USPOT: ("Terminal Sur", "terminal-sur", "Wi-Fi Gratis"),
    }
    name, nas_id, ssid = names[nas_type]
    values: dict[str, object] = {
        "id": 7,
        "name": name,
        "nas_id": nas_id,
        "nas_type": nas_type.value,
        "ssid": ssid,
        "radius_secret": "q7RZx2mN4vT8kLp3Wc9Hf6Yb1Dj5Gs0A",
        "uam_secret": None if nas_type is NasType.MIKROTIK else "Ue4Jt9Qw2Zr7Xn5Bv8Mc3Lk6Hp1Sd0Fa",
        "coa_port": 3799,
        "require_message_authenticator": True,
        "active": True,
    }
    values.update(changes)
    return Point(**values)


_ROS_ESCAPE = re.compile(r'\\([0-9A-F]{2}|[\\"$?nrt_abfv])')
_SIMPLE = {"n": "\n", "r": "\r", "t": "\t", "_": " ", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def decode_ros_string(literal: str) -> str:
    """Decode a RouterOS double-quoted string literal back to its text."""
    assert literal.startswith('"') and literal.endswith('"'), literal
    out = bytearray()
    body = literal[1:-1]
    index = 0
    while index < len(body):
        match = _ROS_ESCAPE.match(body, index)
        if match:
            code = match.group(1)
            if len(code) == 2:
                out.append(int(code, 16))
            else:
                out.extend(_SIMPLE.get(code, code).encode())
            index = match.end()
        else:
            out.extend(body[index].encode())
            index += 1
    return out.decode("utf-8")

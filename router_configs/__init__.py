"""Router setup scripts and posters for Wi-Fi points.

`render_config` writes the script that sets up a point's router (RouterOS `.rsc`, or a shell
script for OpenWrt with CoovaChilli or uspot); `render_poster` draws the point's printable
poster with a QR code to join its Wi-Fi.
"""

from router_configs.poster import render_poster, wifi_qr_payload
from router_configs.render import (
    RADIUS_PLACEHOLDER,
    ROUTER_FOR_NAS,
    RenderedConfig,
    RouterKind,
    RouterTargets,
    render_config,
    router_targets,
)

__all__ = [
    "RADIUS_PLACEHOLDER",
    "ROUTER_FOR_NAS",
    "RenderedConfig",
    "RouterKind",
    "RouterTargets",
    "render_config",
    "render_poster",
    "router_targets",
    "wifi_qr_payload",
]

"""Setup scripts for a point's router: RouterOS `.rsc`, OpenWrt CoovaChilli and uspot shell."""

from __future__ import annotations

import hmac
import ipaddress
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from html import escape as html_escape
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from cautiva.credentials import heartbeat_key
from cautiva.errors import InvalidInput
from cautiva.models import NasType, Point
from cautiva.points.service import point_ssid
from cautiva.settings import Settings
from router_configs.quoting import (
    ros_comment,
    ros_string,
    ros_time,
    ros_word,
    sh_quote,
    uci_quote,
)
from router_configs.routeros_syntax import check_routeros
from router_configs.uci_syntax import check_uci_batch, uci_batches

TEMPLATES = Path(__file__).resolve().parent / "templates"
RADIUS_PLACEHOLDER = "CAUTIVA_RADIUS_ADDRESS"
# MikroTik variables login.html forwards to the portal (portal_api/splash/visit.py reads them,
# and `error` for a failed login); each is sent URL-escaped as $(name-esc).
MIKROTIK_VARIABLES = (
    "mac",
    "ip",
    "link-login-only",
    "link-orig",
    "chap-id",
    "chap-challenge",
    "identity",
    "server-name",
    "error",
)
_URL_TAIL = re.compile(r"[A-Za-z0-9._~:/%-]*")


class RouterKind(StrEnum):
    """The router software a script is for."""

    ROUTEROS = "routeros"
    OPENWRT_CHILLI = "openwrt-chilli"
    OPENWRT_USPOT = "openwrt-uspot"


ROUTER_FOR_NAS = {
    NasType.MIKROTIK: RouterKind.ROUTEROS,
    NasType.CHILLI: RouterKind.OPENWRT_CHILLI,
    NasType.USPOT: RouterKind.OPENWRT_USPOT,
}


@dataclass(frozen=True, slots=True)
class RenderedConfig:
    """A generated script: a file name to save it as, its media type and its text."""

    filename: str
    media_type: str
    text: str


@dataclass(frozen=True, slots=True)
class RouterTargets:
    """Where routers send RADIUS and phones find the portal, from the settings."""

    radius: tuple[str, ...]
    portal_url: str
    # True when CAUTIVA_ROUTER_RADIUS_ADDRESS is unset and the scripts carry a placeholder.
    placeholder: bool


def router_targets(settings: Settings) -> RouterTargets:
    """Return the RADIUS addresses and the portal URL the scripts point routers at."""
    router = settings.router
    primary = router.radius_address or RADIUS_PLACEHOLDER
    radius = (primary, router.radius_address_2) if router.radius_address_2 else (primary,)
    portal = router.portal_url or settings.portal.public_url
    if not portal:
        host = f"[{primary}]" if ":" in primary else primary
        portal = f"http://{host}:{settings.portal.port}"
    return RouterTargets(
        radius=radius,
        portal_url=_check_portal_url(portal.rstrip("/")),
        placeholder=not router.radius_address,
    )


def splash_url(portal_url: str, nas_id: str) -> str:
    """The portal page the router sends phones to."""
    return f"{portal_url}/p/{quote(nas_id, safe='')}"


def heartbeat_url(portal_url: str, nas_id: str) -> str:
    """Where the router POSTs its heartbeat."""
    return f"{portal_url}/api/v1/points/{quote(nas_id, safe='')}/heartbeat"


def render_config(point: Point, router: RouterKind, *, settings: Settings) -> RenderedConfig:
    """Return the setup script of `point`'s router, ready to paste or run."""
    _check_point(point, router)
    targets = router_targets(settings)
    context = _context(point, router, targets, settings)
    if router is RouterKind.ROUTEROS:
        text = _environment().get_template("routeros.rsc.j2").render(context)
        problems = check_routeros(text) + check_routeros(context["heartbeat_source"])
        media_type = "text/plain; charset=utf-8"
    else:
        template = "openwrt-chilli.sh.j2" if router is RouterKind.OPENWRT_CHILLI else None
        template = template or "openwrt-uspot.sh.j2"
        text = _environment().get_template(template).render(context)
        problems = [p for batch in uci_batches(text) for p in check_uci_batch(batch)]
        media_type = "text/x-shellscript; charset=utf-8"
    if problems:
        # Every value is escaped for its syntax; reaching this is a bug in Cautiva.
        raise RuntimeError(f"generated {router} script is malformed: {'; '.join(problems)}")
    return RenderedConfig(filename=context["filename"], media_type=media_type, text=text)


def _check_point(point: Point, router: RouterKind) -> None:
    if not point.active:
        raise InvalidInput(f"point {point.nas_id!r} is retired: no router script for it")
    expected = ROUTER_FOR_NAS[NasType(point.nas_type)]
    if router is not expected:
        raise InvalidInput(
            f"point {point.nas_id!r} is a {point.nas_type} point: its router script is "
            f"--router {expected}, not {router}"
        )
    if router is RouterKind.OPENWRT_CHILLI:
        for label, value in (("RADIUS", point.radius_secret), ("UAM", point.uam_secret or "")):
            # chilli.init writes name="value" into chilli's configuration file.
            if '"' in value or "\\" in value:
                raise InvalidInput(
                    f'CoovaChilli cannot read a {label} secret with " or \\: give point '
                    f"{point.nas_id!r} a new one (cautiva point rotate-secret)"
                )
    if router is RouterKind.OPENWRT_USPOT and ":" in point.radius_secret:
        # uspot hands radcli "server:port:secret" (uspot.uc radius_init).
        raise InvalidInput(
            f"uspot cannot use a RADIUS secret with ':': give point {point.nas_id!r} a new one "
            "(cautiva point rotate-secret)"
        )
    if router is not RouterKind.ROUTEROS and not point.uam_secret:
        raise InvalidInput(f"point {point.nas_id!r} has no UAM secret")


def _check_portal_url(url: str) -> str:
    parts = urlsplit(url)
    ok = (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and parts.username is None
        and not parts.query
        and not parts.fragment
        and _URL_TAIL.fullmatch(url.split("://", 1)[-1]) is not None
    )
    if ok:
        try:
            parts.port  # noqa: B018 - raises ValueError for a bad port
        except ValueError:
            ok = False
    if not ok:
        raise InvalidInput(
            f"the portal URL for routers must be http(s)://host[:port][/path]: {url!r} "
            "(CAUTIVA_ROUTER_PORTAL_URL or CAUTIVA_PORTAL_PUBLIC_URL)"
        )
    host = parts.hostname or ""
    if _ip_version(host) == 6:
        raise InvalidInput("the hotspots are IPv4: give the portal a name or an IPv4 address")
    return url


def _ip_version(host: str) -> int | None:
    try:
        return ipaddress.ip_address(host).version
    except ValueError:
        return None


def _uam_challenge(secret_key: str, nas_id: str) -> str:
    """uspot's UAM challenge seed: stable per point, so that runs again change nothing."""
    digest = hmac.new(secret_key.encode(), b"cautiva-uspot-challenge:" + nas_id.encode(), "sha256")
    return digest.hexdigest()[:32]


def _context(
    point: Point, router: RouterKind, targets: RouterTargets, settings: Settings
) -> dict[str, Any]:
    network = settings.router.captive_network
    gateway = network.network_address + 1
    portal = urlsplit(targets.portal_url)
    # The host as written (hostname would lower-case the placeholder); IPv6 was refused.
    portal_host = portal.netloc.split(":", 1)[0]
    https = portal.scheme == "https"
    suffix = {"routeros": ".rsc", "openwrt-chilli": "-chilli.sh", "openwrt-uspot": "-uspot.sh"}
    nas_id = point.nas_id
    splash = splash_url(targets.portal_url, nas_id)
    beat_url = heartbeat_url(targets.portal_url, nas_id)
    beat_key = heartbeat_key(settings.secret_key, nas_id)
    context: dict[str, Any] = {
        "router": router.value,
        # A NAS-Identifier may hold ':', which no Windows file name can.
        "filename": f"cautiva-{nas_id.replace(':', '-')}{suffix[router.value]}",
        "point_name": point.name,
        "nas_id": nas_id,
        "ssid": point_ssid(point),
        "secret": point.radius_secret,
        "uam_secret": point.uam_secret or "",
        "uam_challenge": _uam_challenge(settings.secret_key, nas_id),
        "coa_port": point.coa_port,
        "require_ma": point.require_message_authenticator,
        "radius_addresses": list(targets.radius),
        # Firewall source filters take literal addresses only; names are left open.
        "radius_ips": [a for a in targets.radius if _ip_version(a) == 4],
        "placeholder": RADIUS_PLACEHOLDER if targets.placeholder else "",
        "auth_port": settings.radius.auth_port,
        "acct_port": settings.radius.acct_port,
        "interim": ros_time(settings.session.interim_interval),
        "interim_seconds": settings.session.interim_interval,
        "portal_url": targets.portal_url,
        "portal_host": portal_host,
        "portal_is_ip": _ip_version(portal_host) == 4,
        "portal_port": portal.port or (443 if https else 80),
        "splash_url": splash,
        # RFC 8908 section 2: the API URI must be https; phones ignore anything else.
        "captive_api_url": (
            f"{targets.portal_url}/api/v1/captive-portal?nas={quote(nas_id, safe='')}"
            if https
            else ""
        ),
        "heartbeat_url": beat_url,
        "heartbeat_key": beat_key,
        "interface": settings.router.hotspot_interface,
        "network": str(network),
        "netmask": str(network.netmask),
        "prefix": network.prefixlen,
        "gateway": str(gateway),
        "pool_start": str(gateway + 1),
        "pool_end": str(network.broadcast_address - 1),
        "dhcp_limit": network.num_addresses - 3,
    }
    environment = _environment()
    if router is RouterKind.ROUTEROS:
        forwarded = "&".join(f"{name}=$({name}-esc)" for name in MIKROTIK_VARIABLES)
        context["login_html"] = environment.get_template("routeros-login.html.j2").render(
            url=html_escape(f"{splash}?{forwarded}", quote=True)
        )
        context["heartbeat_source"] = environment.get_template("routeros-heartbeat.rsc.j2").render(
            url=beat_url, key=beat_key
        )
    else:
        context["heartbeat_script"] = (TEMPLATES / "openwrt-heartbeat.sh").read_text()
    return context


@cache
def _environment() -> Environment:
    # Autoescape is off on purpose: none of these targets is HTML, and every value is escaped
    # for its own syntax through the filters below.
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=False,  # noqa: S701
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        ros=ros_string, word=ros_word, comment=ros_comment, sh=sh_quote, uci=uci_quote
    )
    return environment

"""Rendering splash pages: Jinja2 with autoescaping, one inline stylesheet, strict headers.

Every page is one request: the CSS is inline and there is no script, no font, no image from
anywhere, so a captive pop-up browser on a slow link shows it at once. Operator texts and form
labels are escaped by Jinja's autoescape; nothing is marked safe.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from portal_api.splash.texts import LANGUAGES, Words

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@cache
def environment() -> Environment:
    """The template environment (built once per process)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


@cache
def stylesheet() -> tuple[str, str]:
    """The inline CSS and its CSP hash source."""
    css = (TEMPLATES / "splash.css").read_text().replace("\n", "")
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    return css, f"'sha256-{digest}'"


BEACON = (
    "(function(){var v=document.querySelector('video[data-beacon]');"
    "if(!v||!navigator.sendBeacon)return;var u=v.getAttribute('data-beacon'),s=0;"
    "v.addEventListener('play',function(){if(!s){s=1;navigator.sendBeacon(u+'?event=started')}});"
    "v.addEventListener('ended',function(){navigator.sendBeacon(u+'?event=finished')})})();"
)


@cache
def beacon_script() -> tuple[str, str]:
    """The inline script that counts video starts and ends (no identifier), and its CSP hash."""
    digest = base64.b64encode(hashlib.sha256(BEACON.encode()).digest()).decode()
    return BEACON, f"'sha256-{digest}'"


def paragraphs(text: str) -> list[str]:
    """Operator text split into paragraphs on blank lines (escaped later by the template)."""
    return [
        " ".join(part.split()) for part in text.replace("\r\n", "\n").split("\n\n") if part.strip()
    ]


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


def render(
    template: str,
    *,
    lang: str,
    point_name: str,
    status_code: int = 200,
    form_targets: tuple[str, ...] = (),
    media: bool = False,
    switcher: bool = True,
    **context: Any,
) -> HTMLResponse:
    """A page with the shared context and the portal's security headers."""
    css, css_hash = stylesheet()
    html = (
        environment()
        .get_template(template)
        .render(
            lang=lang,
            w=Words(lang),
            # Our own file, not operator text: <style> is raw text, entities would break it.
            css=Markup(css),  # noqa: S704
            beacon=Markup(beacon_script()[0]),  # noqa: S704 - a constant of ours
            point_name=point_name,
            switcher=switcher,
            languages=list(LANGUAGES.items()),
            **context,
        )
    )
    response = HTMLResponse(html, status_code=status_code, headers=security_headers())
    targets = " ".join(sorted({o for o in map(_origin, form_targets) if o}))
    # The empty data: favicon keeps browsers from asking /favicon.ico on a slow link.
    directives = ["default-src 'none'", f"style-src {css_hash}", "img-src data:"]
    if media:
        # A video, its poster frame, and the one script that counts its views.
        directives[-1] = "img-src data: 'self'"
        directives += ["media-src 'self'", f"script-src {beacon_script()[1]}", "connect-src 'self'"]
    directives += [
        f"form-action 'self'{(' ' + targets) if targets else ''}",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
    response.headers["Content-Security-Policy"] = "; ".join(directives)
    return response


def security_headers() -> Mapping[str, str]:
    """Headers every splash page carries: no caching (pages hold a visit), no framing."""
    return {
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
    }

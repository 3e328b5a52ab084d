"""A printable A4 poster per point: a QR code that joins its Wi-Fi and a short text in four
languages (free, one hour, 18 or older, an anonymous survey)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import segno

from cautiva.errors import InvalidInput
from cautiva.models import Point
from cautiva.points.service import point_ssid
from cautiva.settings import Settings

# The Wi-Fi network QR format (ZXing's "WIFI:" URI, adopted by Android and iOS): a backslash
# escapes \ ; , : and " inside a value.
_WIFI_SPECIAL = '\\;,:"'
QR_ERROR = "m"
QR_BORDER = 4  # modules of quiet zone, as ISO/IEC 18004 asks
FONT = "DejaVu Sans, Noto Sans, Arial, Helvetica, sans-serif"
INK = "#17324d"
ACCENT = "#0b6e4f"


@dataclass(frozen=True, slots=True)
class PosterText:
    """What the poster says in one language."""

    language: str
    title: str
    lines: tuple[str, ...]


# {ssid} and {address} are filled in; the texts say what the splash portal says: free, one
# hour per session, 18 or older, a short anonymous survey without names or ID numbers.
TEXTS = (
    PosterText(
        "Español",
        "Wi-Fi gratis",
        (
            "Conéctate a la red «{ssid}» o escanea el código.",
            "Es gratis: una hora de internet por sesión.",
            "Solo para mayores de 18 años.",
            "Antes, responde una encuesta corta y anónima: no pedimos nombres ni documentos.",
            "¿No se abre la página? Abre http://{address} en el navegador.",
        ),
    ),
    PosterText(
        "English",
        "Free Wi-Fi",
        (
            "Join the network “{ssid}” or scan the code.",
            "It is free: one hour of internet per session.",
            "For people aged 18 and over.",
            "First, answer a short anonymous survey: we never ask for names or ID documents.",
            "No page opens? Go to http://{address} in your browser.",
        ),
    ),
    PosterText(
        "Français",
        "Wi-Fi gratuit",
        (
            "Connectez-vous au réseau « {ssid} » ou scannez le code.",
            "C’est gratuit : une heure d’internet par session.",  # noqa: RUF001
            "Réservé aux personnes de 18 ans et plus.",
            "D’abord, répondez à un court questionnaire anonyme : ni nom ni pièce d’identité.",  # noqa: RUF001
            "Aucune page ne s’ouvre ? Allez sur http://{address} dans le navigateur.",  # noqa: RUF001
        ),
    ),
    PosterText(
        "Kreyòl ayisyen",
        "Wi-Fi gratis",
        (
            "Konekte sou rezo « {ssid} » oswa eskane kòd la.",
            "Li gratis: yon èdtan entènèt pou chak koneksyon.",
            "Se pou moun ki gen 18 an oswa plis sèlman.",
            "Anvan, reponn yon ti sondaj anonim: nou pa mande non ni papye idantite.",
            "Paj la pa louvri? Ale sou http://{address} nan navigatè a.",
        ),
    ),
)
SCAN = "Escanea · Scan · Scannez · Eskane"


def wifi_qr_payload(ssid: str) -> str:
    """Return the `WIFI:` payload that joins the open network `ssid`."""
    escaped = "".join("\\" + char if char in _WIFI_SPECIAL else char for char in ssid)
    return f"WIFI:S:{escaped};T:nopass;;"


def wifi_qr(ssid: str) -> segno.QRCode:
    """Return the QR code that joins `ssid` (UTF-8: phones read the SSID's octets as UTF-8)."""
    return segno.make(wifi_qr_payload(ssid), error=QR_ERROR, encoding="utf-8", micro=False)


def qr_path(matrix: tuple[bytearray, ...] | list[bytearray]) -> str:
    """Return an SVG path drawing the dark modules, one rectangle per horizontal run."""
    commands: list[str] = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if not row[x]:
                x += 1
                continue
            start = x
            while x < len(row) and row[x]:
                x += 1
            commands.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
    return "".join(commands)


def _text(x: float, y: float, content: str, size: float, **attributes: str) -> str:
    extra = "".join(
        f" {key.replace('_', '-')}={quoteattr(value)}" for key, value in attributes.items()
    )
    return f'<text x="{x:g}" y="{y:g}" font-size="{size:g}"{extra}>{escape(content)}</text>'


def _block(text: PosterText, x: float, y: float, ssid: str, address: str) -> list[str]:
    parts = [_text(x, y, text.language, 5.2, font_weight="bold", fill=ACCENT)]
    y += 7
    for line in text.lines:
        filled = line.format(ssid=ssid, address=address)
        for piece in textwrap.wrap(filled, width=44, break_long_words=True):
            parts.append(_text(x, y, piece, 3.6))
            y += 4.6
        y += 1.4
    return parts


def render_poster(point: Point, *, settings: Settings) -> str:
    """Return the point's A4 poster as an SVG document."""
    if not point.active:
        raise InvalidInput(f"point {point.nas_id!r} is retired: no poster for it")
    ssid = point_ssid(point)
    qr = wifi_qr(ssid)
    width, height = qr.symbol_size(scale=1, border=QR_BORDER)
    side = 78.0
    scale = side / width
    qr_x, qr_y = (210 - side) / 2, 58.0
    address = str(settings.router.captive_network.network_address + 1)
    titles = " · ".join(dict.fromkeys(t.title for t in TEXTS))
    on_band = {"text_anchor": "middle", "fill": "#ffffff"}
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<svg xmlns="http://www.w3.org/2000/svg" width="210mm" height="297mm" '
        f'viewBox="0 0 210 297" font-family={quoteattr(FONT)} fill="{INK}">',
        f"<title>{escape(f'{titles} — {point.name}')}</title>",
        '<rect width="210" height="297" fill="#ffffff"/>',
        f'<rect width="210" height="40" fill="{ACCENT}"/>',
        _text(105, 17, titles, 8.5, text_anchor="middle", fill="#ffffff", font_weight="bold"),
        # Names run to 120 characters: shrink a long one to the page's width.
        _text(105, 30, point.name, min(6.0, 300 / max(len(point.name), 1)), **on_band),
        _text(105, 51, f"Wi-Fi: {ssid}", 7.5, text_anchor="middle", font_weight="bold"),
        f'<g id="wifi-qr" transform="translate({qr_x:g} {qr_y:g}) scale({scale:.6g})">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<path transform="translate({QR_BORDER} {QR_BORDER})" fill="#000000" '
        f'shape-rendering="crispEdges" d="{qr_path(qr.matrix)}"/>',
        "</g>",
        _text(105, qr_y + side + 7, SCAN, 4.5, text_anchor="middle", fill=ACCENT),
    ]
    columns = (14.0, 112.0)
    rows = (160.0, 228.0)
    for index, text in enumerate(TEXTS):
        parts.extend(_block(text, columns[index % 2], rows[index // 2], ssid, address))
    parts.append(_text(105, 291, point.nas_id, 3, text_anchor="middle", fill="#8a9aaa"))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"

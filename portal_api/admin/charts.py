"""Charts for the dashboards: pygal draws SVG on the server, shown as images, no script at all.

An SVG inside <img> runs no script and fetches nothing, so the page's CSP (`img-src data:`)
needs no exception and the charts work in a captive browser or offline copy alike. A hidden
count (small-cell suppression) is drawn as a gap, never as its number.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence

import pygal
from markupsafe import Markup, escape
from pygal.style import Style

_STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#222",
    foreground_strong="#111",
    foreground_subtle="#666",
    colors=("#1f5f8b", "#c0392b", "#2e8b57", "#8e44ad", "#d68910", "#5d6d7e"),
    font_family="sans-serif",
    label_font_size=15,
    major_label_font_size=15,
    value_font_size=14,
    title_font_size=18,
    legend_font_size=15,
)

Value = int | float | None
# pygal always writes its config as an inline script; an <img> would not run it anyway.
_SCRIPT = re.compile(rb"<script\b.*?</script>", re.S)


def _config(title: str, *, height: int) -> dict[str, object]:
    return {
        "title": title,
        "style": _STYLE,
        "width": 560,  # narrow, so that its text stays readable on a phone
        "height": height,
        "js": [],  # pygal links a tooltip script from a CDN by default: never
        "disable_xml_declaration": False,
        "print_values": True,
        "show_legend": False,
        "margin": 12,
        "truncate_label": -1,
    }


def _image(chart: pygal.graph.graph.Graph, alt: str) -> Markup:
    svg: bytes = _SCRIPT.sub(b"", chart.render())
    data = base64.b64encode(svg).decode()
    return Markup(  # noqa: S704 - base64 of our own SVG and an escaped alt text
        f'<img class="chart" src="data:image/svg+xml;base64,{data}" alt="{escape(alt)}">'
    )


def bars(title: str, items: Sequence[tuple[str, Value]], *, alt: str = "") -> Markup:
    """Horizontal bars, one per (label, value); None (hidden) draws no bar."""
    chart = pygal.HorizontalBar(**_config(title, height=max(170, 80 + 32 * len(items))))
    chart.x_labels = [label for label, _ in items]
    chart.add(title, [value for _, value in items])
    return _image(chart, alt or title)


def stacked(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Value]]],
    *,
    alt: str = "",
) -> Markup:
    """Stacked horizontal bars: one bar per label, one colour per series, with a legend."""
    config = _config(title, height=max(190, 100 + 36 * len(labels)))
    config |= {"show_legend": True, "legend_at_bottom": True, "print_values": False}
    chart = pygal.HorizontalStackedBar(**config)
    chart.x_labels = list(labels)
    for name, values in series:
        chart.add(name, list(values))
    return _image(chart, alt or title)


def timeline(title: str, points: Sequence[tuple[str, Value]], *, alt: str = "") -> Markup:
    """A line over time, one point per (period label, value); None leaves a gap."""
    config = _config(title, height=300)
    config |= {
        "print_values": False,
        "show_dots": len(points) <= 60,
        "x_label_rotation": 30 if len(points) > 8 else 0,
        "show_minor_x_labels": False,
        "x_labels_major_every": max(1, len(points) // 10),
        "allow_interruptions": True,
    }
    chart = pygal.Line(**config)
    chart.x_labels = [label for label, _ in points]
    chart.add(title, [value for _, value in points])
    return _image(chart, alt or title)

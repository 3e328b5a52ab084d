"""The printable poster: valid SVG, four languages, the point's name, a QR code that joins it."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
import segno
from defusedxml.ElementTree import fromstring
from router_samples import sample_point, sample_settings

from cautiva.errors import InvalidInput
from cautiva.models import NasType
from cautiva.points.service import point_ssid
from router_configs import render_poster, wifi_qr_payload
from router_configs.poster import QR_ERROR, TEXTS

SVG = "{http://www.w3.org/2000/svg}"
_RUN = re.compile(r"M(\d+) (\d+)h(\d+)v1h-(\d+)z")


def poster_tree(**changes: object) -> tuple[ET.Element, str]:
    point = sample_point(NasType.MIKROTIK, **changes)
    svg = render_poster(point, settings=sample_settings())
    return fromstring(svg.encode("utf-8")), svg


def drawn_matrix(root: ET.Element) -> list[list[int]]:
    """The QR modules the SVG draws, read back from its path."""
    group = next(g for g in root.iter(f"{SVG}g") if g.get("id") == "wifi-qr")
    width = int(float(group.find(f"{SVG}rect").get("width", "0")))  # type: ignore[union-attr]
    path = group.find(f"{SVG}path")
    assert path is not None
    size = width - 2 * 4
    matrix = [[0] * size for _ in range(size)]
    d = path.get("d", "")
    assert _RUN.sub("", d) == ""
    for x, y, length, back in _RUN.findall(d):
        assert length == back
        for column in range(int(x), int(x) + int(length)):
            matrix[int(y)][column] = 1
    return matrix


def texts(root: ET.Element) -> str:
    return "\n".join("".join(node.itertext()) for node in root.iter(f"{SVG}text"))


def test_poster_parses_and_speaks_four_languages() -> None:
    root, _ = poster_tree()
    assert root.tag == f"{SVG}svg" and root.get("viewBox") == "0 0 210 297"
    shown = texts(root)
    assert "Terminal de Transportes Cúcuta" in shown
    for language in ("Español", "English", "Français", "Kreyòl ayisyen"):
        assert language in shown
    squeezed = " ".join(shown.split())
    for phrase in (
        "una hora de internet",
        "mayores de 18 años",
        "anónima",
        "one hour of internet",
        "18 and over",
        "anonymous survey",
        "une heure d’internet",  # noqa: RUF001
        "18 ans et plus",
        "anonyme",
        "yon èdtan entènèt",
        "18 an oswa plis",
        "sondaj anonim",
        "gratis",
        "free",
        "gratuit",
        "http://10.1.0.1",
    ):
        assert phrase in squeezed, phrase
    assert len(TEXTS) == 4


def test_qr_code_joins_the_points_network() -> None:
    root, _ = poster_tree(ssid='Cautiva; Wi-Fi: "libre"')
    payload = wifi_qr_payload('Cautiva; Wi-Fi: "libre"')
    assert payload == 'WIFI:S:Cautiva\\; Wi-Fi\\: \\"libre\\";T:nopass;;'
    expected = segno.make(payload, error=QR_ERROR, encoding="utf-8", micro=False)
    assert drawn_matrix(root) == [list(row) for row in expected.matrix]
    other = segno.make(wifi_qr_payload("Other"), error=QR_ERROR, encoding="utf-8", micro=False)
    assert drawn_matrix(root) != [list(row) for row in other.matrix]


def test_wifi_payload_escapes_every_special_character() -> None:
    assert wifi_qr_payload("plain") == "WIFI:S:plain;T:nopass;;"
    assert wifi_qr_payload('a\\b;c,d:e"f') == 'WIFI:S:a\\\\b\\;c\\,d\\:e\\"f;T:nopass;;'


def test_retired_points_get_no_poster() -> None:
    with pytest.raises(InvalidInput, match="retired"):
        render_poster(sample_point(NasType.MIKROTIK, active=False), settings=sample_settings())


def test_names_are_escaped_and_the_ssid_defaults_to_the_name() -> None:
    name = 'Café <Norte> & "Sur" — punto de atención número 12'
    point = sample_point(NasType.MIKROTIK, name=name, ssid=None)
    ssid = point_ssid(point)
    assert len(ssid.encode("utf-8")) <= 32 and name.startswith(ssid)
    root, svg = poster_tree(name=name, ssid=None)
    assert "<Norte>" not in svg and "&lt;Norte&gt;" in svg
    assert name in texts(root)
    expected = segno.make(wifi_qr_payload(ssid), error=QR_ERROR, encoding="utf-8", micro=False)
    assert drawn_matrix(root) == [list(row) for row in expected.matrix]

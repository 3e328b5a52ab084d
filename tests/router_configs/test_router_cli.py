"""`cautiva point config` and `cautiva point poster` as a technician runs them, on SQLite."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from defusedxml.ElementTree import fromstring

from radius_harness import CAUTIVA
from router_configs.routeros_syntax import check_routeros
from router_configs.uci_syntax import check_uci_batch, uci_batches

pytestmark = pytest.mark.sqlite


def cli(env: dict[str, str], *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    """Run `cautiva ARGS` with `env` and check its exit code."""
    completed = subprocess.run(
        [CAUTIVA, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == code, completed.stderr
    return completed


def cli_json(env: dict[str, str], *args: str) -> Any:
    return json.loads(cli(env, *args, "--json").stdout)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One SQLite database for these tests, with a point of each kind and a retired one."""
    data = tmp_path_factory.mktemp("cli") / "var"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CAUTIVA_")}
    environment.update(
        {
            "CAUTIVA_ENV": "development",
            "CAUTIVA_DATA_DIR": str(data),
            "CAUTIVA_ROUTER_RADIUS_ADDRESS": "203.0.113.10",
            "CAUTIVA_PORTAL_PUBLIC_URL": "https://portal.cautiva.example",
        }
    )
    cli(environment, "db", "upgrade")
    for name, nas_id, nas_type in (
        ("Terminal Norte", "norte-1", "mikrotik"),
        ("Rumichaca", "rumichaca-1", "chilli"),
        ("Terminal Sur", "sur-1", "uspot"),
        ("Old terminal", "retired-1", "uspot"),
    ):
        cli(environment, "point", "add", "--name", name, "--nas-id", nas_id, "--nas-type", nas_type)
    with sqlite3.connect(data / "cautiva.db") as connection:
        connection.execute("UPDATE points SET active = 0 WHERE nas_id = 'retired-1'")
    return environment


@pytest.fixture
def env(database: dict[str, str]) -> dict[str, str]:
    """The shared database's environment, a copy each test may change."""
    return dict(database)


def test_config_to_stdout_and_to_a_file(env: dict[str, str], tmp_path: Path) -> None:
    shown = cli(env, "point", "config", "norte-1")
    assert shown.stderr == ""
    assert shown.stdout.startswith('# Cautiva: RouterOS hotspot for point "Terminal Norte"')
    assert check_routeros(shown.stdout) == []
    again = cli(env, "point", "config", "norte-1", "--router", "routeros")
    assert again.stdout == shown.stdout
    target = tmp_path / "chilli.sh"
    written = cli(env, "point", "config", "rumichaca-1", "--output", str(target))
    assert written.stdout == "" and written.stderr == ""
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # it holds the RADIUS secret
    script = target.read_text()
    assert script.startswith("#!/bin/sh\n") and "radiusnasid='rumichaca-1'" in script
    assert subprocess.run(["sh", "-n", str(target)], check=False).returncode == 0
    assert all(check_uci_batch(batch) == [] for batch in uci_batches(script))
    record = cli_json(env, "point", "config", "sur-1")
    assert record["filename"] == "cautiva-sur-1-uspot.sh"
    assert record["media_type"].startswith("text/x-shellscript")
    assert "uspot.cautiva.nasid='sur-1'" in record["text"]
    saved = cli_json(env, "point", "config", "sur-1", "--output", str(tmp_path / "u.sh"))
    assert saved == {
        "filename": "cautiva-sur-1-uspot.sh",
        "media_type": "text/x-shellscript; charset=utf-8",
        "path": str(tmp_path / "u.sh"),
    }


def test_placeholder_warning(env: dict[str, str]) -> None:
    del env["CAUTIVA_ROUTER_RADIUS_ADDRESS"]
    shown = cli(env, "point", "config", "norte-1")
    assert 'address="CAUTIVA_RADIUS_ADDRESS"' in shown.stdout
    lines = shown.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("cautiva: warning: ")
    assert "CAUTIVA_ROUTER_RADIUS_ADDRESS" in lines[0]


def test_ssid_and_poster(env: dict[str, str], tmp_path: Path) -> None:
    assert cli_json(env, "point", "show", "norte-1")["ssid"] is None
    changed = cli_json(env, "point", "set", "norte-1", "--ssid", "Wi-Fi Gratis Norte")
    assert changed["ssid"] == "Wi-Fi Gratis Norte"
    svg = cli(env, "point", "poster", "norte-1").stdout
    root = fromstring(svg.encode("utf-8"))
    shown = "".join(root.itertext())
    assert "Wi-Fi Gratis Norte" in shown and "Terminal Norte" in shown
    target = tmp_path / "poster.svg"
    record = cli_json(env, "point", "poster", "norte-1", "--output", str(target))
    assert record == {"filename": "cautiva-norte-1-poster.svg", "path": str(target)}
    assert target.read_text() == svg
    assert cli_json(env, "point", "set", "norte-1", "--ssid", "")["ssid"] is None
    added = cli_json(
        env,
        "point",
        "add",
        "--name",
        "Frontera",
        "--nas-id",
        "frontera-1",
        "--nas-type",
        "uspot",
        "--ssid",
        "Frontera Libre",
    )
    assert added["ssid"] == "Frontera Libre"


def test_errors_are_one_line(env: dict[str, str], tmp_path: Path) -> None:
    cases = [
        (("point", "config", "norte-1", "--router", "openwrt-chilli"), "--router routeros"),
        (("point", "config", "rumichaca-1", "--router", "routeros"), "openwrt-chilli"),
        (("point", "config", "retired-1"), "retired"),
        (("point", "poster", "retired-1"), "retired"),
        (("point", "config", "nowhere"), "no point"),
        (("point", "config", "norte-1", "--router", "cisco"), "cisco"),
        (("point", "config", "norte-1", "--output", str(tmp_path / "no" / "x.rsc")), "x.rsc"),
        (("point", "set", "norte-1", "--ssid", "x" * 33), "32 octets"),
    ]
    for args, reason in cases:
        completed = cli(env, *args, code=2 if "cisco" in args else 1)
        lines = completed.stderr.strip().splitlines()
        assert len(lines) == 1, (args, completed.stderr)
        assert lines[0].startswith("cautiva: error: ") and reason in lines[0], (args, lines)
        assert completed.stdout == ""

"""The embedded default end to end: SQLite, the CLI as a technician uses it, radclient."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sqlite3
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import httpx
import pytest
from pyrad.packet import AcctPacket

from radius.dictionary import load_dictionary
from radius_harness import CAUTIVA, RadiusProcess, free_udp_port, radclient
from splash_pages import SURVEY_PAGES, Splash, mikrotik_query

pytestmark = pytest.mark.sqlite


def cli(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run `cautiva ARGS` with `env`."""
    completed = subprocess.run(
        [CAUTIVA, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    if check:
        assert completed.returncode == 0, completed.stderr
    return completed


def cli_json(env: dict[str, str], *args: str) -> Any:
    """Run a command with --json and parse what it prints."""
    return json.loads(cli(env, *args, "--json").stdout)


@pytest.fixture
def sqlite_env(tmp_path: Path) -> dict[str, str]:
    """An environment on a fresh SQLite database, whatever the suite's database is."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CAUTIVA_")}
    env.update(
        {
            "CAUTIVA_ENV": "development",
            "CAUTIVA_DATA_DIR": str(tmp_path / "var"),
            "CAUTIVA_RADIUS_REJECT_DELAY": "0.1",
        }
    )
    return env


def test_full_flow_on_sqlite(sqlite_env: dict[str, str], tmp_path: Path) -> None:
    cli(sqlite_env, "db", "upgrade")
    assert (tmp_path / "var" / "cautiva.db").exists()
    point = cli_json(
        sqlite_env,
        "point",
        "add",
        "--name",
        "Terminal de Transportes",
        "--nas-id",
        "terminal-1",
        "--nas-type",
        "mikrotik",
        "--department",
        "Norte de Santander",
    )
    assert len(point["secret"]) >= 32
    grant = cli_json(sqlite_env, "grant", "issue", "--point", "terminal-1")
    assert grant["seconds"] == 3600
    server = RadiusProcess(sqlite_env, tmp_path / "radius.log").start()
    try:
        login = (
            f'User-Name = "{grant["username"]}"\nUser-Password = "{grant["password"]}"\n'
            'NAS-Identifier = "terminal-1"\nCalling-Station-Id = "02:00:00:00:00:01"\n'
            "Message-Authenticator = 0x00\n"
        )
        accept = radclient(server.auth, "auth", point["secret"], login)
        assert accept.code == "Access-Accept", accept.output
        assert accept.one("Session-Timeout") == "3600"
        for status, extra in [("Start", ""), ("Stop", "Acct-Session-Time = 1800\n")]:
            reply = radclient(
                server.acct,
                "acct",
                point["secret"],
                f"Acct-Status-Type = {status}\n"
                f'User-Name = "{grant["username"]}"\nAcct-Session-Id = "e2e-1"\n'
                'NAS-Identifier = "terminal-1"\n' + extra,
            )
            assert reply.code == "Accounting-Response", reply.output
        again = radclient(server.auth, "auth", point["secret"], login)
        assert again.code == "Access-Accept"
        assert 1790 <= int(again.one("Session-Timeout")) <= 1800
    finally:
        assert server.stop() == 0
    sessions = cli_json(sqlite_env, "session", "list", "--point", "terminal-1", "--all")
    assert [s["session_time"] for s in sessions] == [1800]
    assert sessions[0]["stopped_at"] is not None


def test_cli_errors_are_one_line(sqlite_env: dict[str, str]) -> None:
    cli(sqlite_env, "db", "upgrade")
    cases = [
        ("point", "add", "--name", "x", "--nas-id", "bad id", "--nas-type", "mikrotik"),
        (
            "point",
            "add",
            "--name",
            "x",
            "--nas-id",
            "ok-1",
            "--nas-type",
            "mikrotik",
            "--secret",
            "testing123",
        ),
        ("point", "add", "--name", "x", "--nas-id", "ok-1", "--nas-type", "cisco"),
        ("point", "add", "--name", "x"),
        ("point", "show", "nowhere"),
        ("grant", "issue", "--point", "nowhere"),
        ("grant", "issue", "--point", "nowhere", "--mac", "zz"),
        ("session", "disconnect", "424242"),
        ("session", "disconnect", "not-a-number"),
        ("no-such-command",),
    ]
    for args in cases:
        completed = cli(sqlite_env, *args, check=False)
        assert completed.returncode != 0, args
        lines = completed.stderr.strip().splitlines()
        assert len(lines) == 1, (args, completed.stderr)
        assert lines[0].startswith("cautiva: error: "), lines
        assert "Traceback" not in completed.stderr


def test_rotate_secret_and_duplicate_nas_id(sqlite_env: dict[str, str]) -> None:
    cli(sqlite_env, "db", "upgrade")
    first = cli_json(
        sqlite_env, "point", "add", "--name", "A", "--nas-id", "dup-1", "--nas-type", "chilli"
    )
    assert first["uam_secret"], "chilli points need a UAM secret"
    clash = cli(
        sqlite_env,
        "point",
        "add",
        "--name",
        "B",
        "--nas-id",
        "dup-1",
        "--nas-type",
        "uspot",
        check=False,
    )
    assert clash.returncode == 1 and "exists already" in clash.stderr
    rotated = cli_json(sqlite_env, "point", "rotate-secret", "dup-1")
    assert rotated["secret"] != first["secret"]
    assert cli_json(sqlite_env, "point", "show", "dup-1")["secret"] == rotated["secret"]
    listed = cli_json(sqlite_env, "point", "list")
    assert [p["nas_id"] for p in listed] == ["dup-1"] and "secret" not in listed[0]
    grants = cli_json(sqlite_env, "grant", "issue", "--point", str(first["id"]), "--count", "3")
    assert len({g["username"] for g in grants}) == 3


def test_serve_runs_radius_and_portal_and_demo_prints_the_point(
    sqlite_env: dict[str, str], tmp_path: Path
) -> None:
    portal_port = free_udp_port()
    env = {
        **sqlite_env,
        "CAUTIVA_PORTAL_HOST": "127.0.0.1",
        "CAUTIVA_PORTAL_PORT": str(portal_port),
    }
    demo = cli_json(env, "demo")
    assert demo["nas_id"] == "cautiva-demo" and demo["secret"]
    assert cli_json(env, "demo")["secret"] == demo["secret"], "demo is idempotent"
    server = RadiusProcess(env, tmp_path / "serve.log", command=("serve",)).start()
    try:
        server.wait_for_log("Uvicorn running", timeout=30)
        with urllib.request.urlopen(f"http://127.0.0.1:{portal_port}/healthz", timeout=5) as r:
            assert json.load(r) == {"status": "ok"}
        status = radclient(
            server.auth,
            "status",
            demo["secret"],
            'NAS-Identifier = "cautiva-demo"\nMessage-Authenticator = 0x00\n',
        )
        assert status.code == "Access-Accept", status.output
    finally:
        assert server.stop() == 0


def test_accounting_is_answered_only_once_committed(
    sqlite_env: dict[str, str], tmp_path: Path
) -> None:

    cli(sqlite_env, "db", "upgrade")
    point = cli_json(
        sqlite_env, "point", "add", "--name", "Lock", "--nas-id", "lock-1", "--nas-type", "mikrotik"
    )
    request = AcctPacket(dict=load_dictionary(), secret=point["secret"].encode(), id=5)
    request.AddAttribute("Acct-Status-Type", "Start")
    request.AddAttribute("User-Name", "someone")
    request.AddAttribute("Acct-Session-Id", "locked-1")
    request.AddAttribute("NAS-Identifier", "lock-1")
    datagram = request.RequestPacket()
    server = RadiusProcess(sqlite_env, tmp_path / "radius.log").start()
    blocker = sqlite3.connect(tmp_path / "var" / "cautiva.db", timeout=1)
    try:
        blocker.execute("BEGIN EXCLUSIVE")  # the database cannot commit anything now
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            sock.settimeout(1.5)
            sock.sendto(datagram, server.acct)
            with pytest.raises(TimeoutError):
                sock.recv(4096)
            blocker.rollback()  # the write can go through now
            sock.settimeout(10)
            reply = sock.recv(4096)
        assert reply[0] == 5 and reply[1] == 5  # Accounting-Response to Identifier 5
    finally:
        blocker.close()
        assert server.stop() == 0
    sessions = cli_json(sqlite_env, "session", "list", "--point", "lock-1")
    assert [s["username"] for s in sessions] == ["someone"]


def test_portal_runs_alone_and_stops_cleanly(sqlite_env: dict[str, str], tmp_path: Path) -> None:
    port = free_udp_port()
    env = {**sqlite_env, "CAUTIVA_PORTAL_HOST": "127.0.0.1", "CAUTIVA_PORTAL_PORT": str(port)}
    cli(env, "db", "upgrade")
    server = RadiusProcess(env, tmp_path / "portal.log", ("portal",), ready="Uvicorn running")
    server.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as reply:
            assert json.load(reply) == {"status": "ok"}
        assert "cautiva radius listening" not in server.log_text()
    finally:
        assert server.stop() == 0


async def test_splash_survey_to_radius_login_on_sqlite(
    sqlite_env: dict[str, str], tmp_path: Path
) -> None:
    portal_port = free_udp_port()
    env = {
        **sqlite_env,
        "CAUTIVA_PORTAL_HOST": "127.0.0.1",
        "CAUTIVA_PORTAL_PORT": str(portal_port),
    }
    demo = cli_json(env, "demo")
    server = RadiusProcess(env, tmp_path / "serve.log", command=("serve",)).start()
    try:
        server.wait_for_log("Uvicorn running", timeout=30)
        base = f"http://127.0.0.1:{portal_port}"
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            splash = Splash(http, demo["nas_id"])
            page = await splash.open(mikrotik_query(mac="02:00:00:00:40:01"))
            assert page.status == 200, page.text
            await splash.submit(lang="es")
            await splash.submit({"age": "yes", "terms": "yes"})
            await splash.submit({"email": "alguien@example.org"})
            for answers in SURVEY_PAGES:
                page = await splash.submit(answers)
            fields = next(f for f in page.forms if f.attrs.get("id") == "login").hidden()
            password = page.text.split("Clave: ")[1].split()[0]
        login = (
            f'User-Name = "{fields["username"]}"\nUser-Password = "{password}"\n'
            f'NAS-Identifier = "{demo["nas_id"]}"\nCalling-Station-Id = "02-00-00-00-40-01"\n'
            "Message-Authenticator = 0x00\n"
        )
        accept = await asyncio.to_thread(radclient, server.auth, "auth", demo["secret"], login)
        assert accept.code == "Access-Accept", accept.output
        assert accept.one("Session-Timeout") == "3600"
    finally:
        assert server.stop() == 0
    database = sqlite3.connect(tmp_path / "var" / "cautiva.db")
    try:
        (count,) = database.execute("SELECT count(*) FROM responses").fetchone()
        dump = "\n".join(database.iterdump())
    finally:
        database.close()
    assert count == 1 and "alguien" not in dump

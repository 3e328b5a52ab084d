"""A private FreeRADIUS 3.x instance with rlm_sql on PostgreSQL, configured from the stock files."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import postgres
from bench.packets import BenchUser
from bench.postgres import Postgres
from bench.process import running_server

BINARY = Path("/usr/sbin/freeradius")
STOCK = Path("/etc/freeradius/3.0")
SCHEMA = STOCK / "mods-config/sql/main/postgresql/schema.sql"
DATABASE = "cautiva_bench_freeradius"
NAS_ID = "bench-nas"
READY = "Ready to process requests"

_LISTEN = re.compile(r"^\s*listen\s*\{")


@dataclass(frozen=True, slots=True)
class FreeRadiusSetup:
    """A configured instance: where its files are and how to reach it."""

    conf_dir: Path
    log_path: Path
    pid_path: Path
    auth_port: int
    acct_port: int
    secret: str


def missing() -> str | None:
    """Return why FreeRADIUS cannot run here, or None when it can."""
    if not BINARY.exists():
        return f"{BINARY} is missing (apt-get install freeradius freeradius-postgresql)"
    if not (STOCK / "radiusd.conf").exists():
        return f"{STOCK}/radiusd.conf is missing or unreadable"
    if not SCHEMA.exists():
        return f"{SCHEMA} is missing (apt-get install freeradius-postgresql)"
    return None


def version() -> str:
    """Return FreeRADIUS's version line."""
    try:
        out = subprocess.run(
            [str(BINARY), "-v"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        return f"FreeRADIUS (version unknown: {exc})"
    match = re.search(r"FreeRADIUS Version \S+", out)
    if match:
        return match.group(0).rstrip(",")
    return (out.strip().splitlines() or ["FreeRADIUS (version unknown)"])[0]


def strip_listen_sections(text: str) -> str:
    """Remove every uncommented `listen { ... }` section from a FreeRADIUS config file."""
    out: list[str] = []
    depth = 0
    for line in text.splitlines(keepends=True):
        code = line.split("#", 1)[0]
        if depth == 0 and _LISTEN.match(code):
            depth = code.count("{") - code.count("}")
            continue
        if depth > 0:
            depth += code.count("{") - code.count("}")
            continue
        out.append(line)
    return "".join(out)


def _listen_sections(auth_port: int, acct_port: int) -> str:
    return "".join(
        f"listen {{\n\ttype = {kind}\n\tipaddr = 127.0.0.1\n\tport = {port}\n}}\n"
        for kind, port in (("auth", auth_port), ("acct", acct_port))
    )


def _sub(pattern: str, replacement: str, text: str, what: str) -> str:
    new, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    if count == 0:
        raise ValueError(f"could not patch {what}: pattern {pattern!r} not found")
    return new


def write_config(
    work_dir: Path, auth_port: int, acct_port: int, secret: str, conninfo: str
) -> FreeRadiusSetup:
    """Copy the stock configuration to `work_dir`/raddb and point it at our ports and database."""
    conf = work_dir / "raddb"
    # Start clean: the detail and radwtmp files of earlier runs grow by ~60 MB a run.
    for old in (conf, work_dir / "log", work_dir / "run"):
        if old.exists():
            shutil.rmtree(old)
    shutil.copytree(STOCK, conf, symlinks=True)
    for sub in ("log", "run", "log/radacct"):
        (work_dir / sub).mkdir(parents=True, exist_ok=True)

    radiusd = (conf / "radiusd.conf").read_text()
    radiusd = _sub(r"^raddbdir = .*$", f"raddbdir = {conf}", radiusd, "raddbdir")
    radiusd = _sub(r"^logdir = .*$", f"logdir = {work_dir / 'log'}", radiusd, "logdir")
    radiusd = _sub(r"^run_dir = .*$", f"run_dir = {work_dir / 'run'}", radiusd, "run_dir")
    # Run as the invoking user: the copy lives where the freerad user may not be able to read.
    radiusd = re.sub(r"^(\s*)(user|group) = freerad", r"\1#\2 = freerad", radiusd, flags=re.M)
    (conf / "radiusd.conf").write_text(radiusd)

    (conf / "clients.conf").write_text(
        "client bench {\n"
        "\tipaddr = 127.0.0.1\n"
        f"\tsecret = {secret}\n"
        "\trequire_message_authenticator = yes\n"
        "\tshortname = bench\n"
        "\tnas_type = other\n"
        "}\n"
    )

    sql = (conf / "mods-available/sql").read_text()
    sql = _sub(r'^(\s*)dialect = "sqlite"', r'\1dialect = "postgresql"', sql, "sql dialect")
    sql = _sub(r'^(\s*)driver = "rlm_sql_null"', r'\1driver = "rlm_sql_${dialect}"', sql, "driver")
    sql = _sub(r'^(\s*)radius_db = "radius"', rf'\1radius_db = "{conninfo}"', sql, "radius_db")
    (conf / "mods-available/sql").write_text(sql)
    link = conf / "mods-enabled/sql"
    link.unlink(missing_ok=True)
    link.symlink_to("../mods-available/sql")

    # No users-file entries: every user comes from SQL.
    authorize = conf / "mods-config/files/authorize"
    authorize.unlink()
    authorize.write_text("# emptied by the bench: users come from radcheck/radreply\n")

    default = conf / "sites-available/default"
    text = strip_listen_sections(default.read_text())
    text = _sub(
        r"^server default \{\n",
        "server default {\n" + _listen_sections(auth_port, acct_port),
        text,
        "server default",
    )
    default.write_text(text)
    inner = conf / "sites-available/inner-tunnel"
    if inner.exists():
        # Its test listener (127.0.0.1:18120) could clash with a system instance.
        inner.write_text(strip_listen_sections(inner.read_text()))

    return FreeRadiusSetup(
        conf_dir=conf,
        log_path=work_dir / "freeradius.log",
        pid_path=work_dir / "freeradius.pid",
        auth_port=auth_port,
        acct_port=acct_port,
        secret=secret,
    )


def prepare_database(pg: Postgres, users: Sequence[BenchUser]) -> None:
    """Create FreeRADIUS's own database with the stock schema and the bench users."""
    postgres.recreate_database(pg, DATABASE)
    postgres.run_script(pg, DATABASE, SCHEMA.read_text())
    postgres.copy_rows(
        pg,
        DATABASE,
        "radcheck",
        ("username", "attribute", "op", "value"),
        [(u.username, "Cleartext-Password", ":=", u.password) for u in users],
    )
    replies = [
        (u.username, attribute, ":=", value)
        for u in users
        for attribute, value in (("Session-Timeout", "3600"), ("Acct-Interim-Interval", "300"))
    ]
    postgres.copy_rows(pg, DATABASE, "radreply", ("username", "attribute", "op", "value"), replies)
    postgres.run_script(pg, DATABASE, "ANALYZE")


@contextmanager
def running(setup: FreeRadiusSetup, ready_timeout: float = 30.0) -> Iterator[int]:
    """Run the instance (`freeradius -f -l stdout`, never -X) and yield its PID."""
    command = [str(BINARY), "-f", "-l", "stdout", "-d", str(setup.conf_dir)]
    with running_server(
        command,
        env=None,
        log_path=setup.log_path,
        pid_path=setup.pid_path,
        ready_marker=READY,
        stale_marker=str(setup.conf_dir),
        ready_timeout=ready_timeout,
    ) as proc:
        yield proc.pid

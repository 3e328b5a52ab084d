"""Cautiva's side: a fresh database, a point and grants through the CLI, and `cautiva radius`."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import postgres
from bench.postgres import Postgres
from bench.process import running_server

DATABASE = "cautiva_bench"
NAS_ID = "bench-nas"
READY = "listening"


class CautivaError(RuntimeError):
    """A Cautiva command failed or printed something the bench cannot use."""


@dataclass(frozen=True, slots=True)
class CautivaSetup:
    """A migrated database with one point and its grants, and how to run the server on it."""

    env: dict[str, str]
    secret: str
    credentials: list[tuple[str, str]]
    auth_port: int
    acct_port: int
    log_path: Path
    pid_path: Path


def executable() -> Path:
    """Return the `cautiva` console script next to this interpreter."""
    return Path(sys.executable).parent / "cautiva"


def stale_marker(work_dir: Path) -> str:
    """Return the environment entry that marks a `cautiva radius` started by the bench."""
    return f"CAUTIVA_DATA_DIR={work_dir / 'data'}"


def base_environment(
    pg: Postgres, database: str, secret_key: str, data_dir: Path
) -> dict[str, str]:
    """Return a process environment for Cautiva commands on `database` (no CAUTIVA_* inherited)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAUTIVA_")}
    env.update(
        CAUTIVA_ENV="development",
        CAUTIVA_DATA_DIR=str(data_dir),
        CAUTIVA_DATABASE_URL=pg.sqlalchemy_url(database),
        CAUTIVA_SECRET_KEY=secret_key,
    )
    return env


def environment(
    pg: Postgres, auth_port: int, acct_port: int, secret_key: str, data_dir: Path
) -> dict[str, str]:
    """Return the process environment for every Cautiva command of the run."""
    env = base_environment(pg, DATABASE, secret_key, data_dir)
    env.update(
        CAUTIVA_RADIUS_HOST="127.0.0.1",
        CAUTIVA_RADIUS_AUTH_PORT=str(auth_port),
        CAUTIVA_RADIUS_ACCT_PORT=str(acct_port),
    )
    return env


def cli(env: Mapping[str, str], *args: str, timeout: float = 120.0) -> str:
    """Run `cautiva ARGS` and return its standard output; CautivaError when it fails."""
    command = [str(executable()), *args]
    try:
        done = subprocess.run(
            command, env=dict(env), capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError as exc:
        raise CautivaError(f"{command[0]} not found (is the project installed?)") from exc
    except subprocess.TimeoutExpired as exc:
        raise CautivaError(f"`cautiva {' '.join(args)}` took more than {timeout:.0f} s") from exc
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise CautivaError(f"`cautiva {' '.join(args)}` exited {done.returncode}:\n{tail}")
    return done.stdout


def parse_json(text: str, command: str) -> Any:
    """Parse what a `--json` command printed; CautivaError when it is not JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CautivaError(f"`{command}` did not print JSON: {text[:300]!r}") from exc


def _credentials(payload: Any, count: int) -> list[tuple[str, str]]:
    grants = payload if isinstance(payload, list) else [payload]
    try:
        found = [(str(g["username"]), str(g["password"])) for g in grants]
    except (KeyError, TypeError) as exc:
        raise CautivaError(f"`grant issue --json` lacks username/password: {grants[:1]!r}") from exc
    if len(found) != count:
        raise CautivaError(f"`grant issue --count {count}` returned {len(found)} grants")
    return found


def prepare(
    pg: Postgres, work_dir: Path, auth_port: int, acct_port: int, users: int
) -> CautivaSetup:
    """Create the `cautiva_bench` database, migrate it, add the point and issue the grants."""
    if not executable().exists():
        raise CautivaError(f"{executable()} not found (run `make install`)")
    work_dir.mkdir(parents=True, exist_ok=True)
    env = environment(pg, auth_port, acct_port, secrets.token_hex(32), work_dir / "data")
    postgres.recreate_database(pg, DATABASE)
    cli(env, "db", "upgrade")
    point = parse_json(
        cli(
            env,
            *("point", "add", "--name", "Bench", "--nas-id", NAS_ID),
            *("--nas-type", "mikrotik", "--json"),
        ),
        "cautiva point add --json",
    )
    secret = point.get("secret") if isinstance(point, dict) else None
    if not isinstance(secret, str) or not secret:
        raise CautivaError(f"`cautiva point add --json` printed no secret: {point!r}")
    grants = parse_json(
        cli(env, "grant", "issue", "--point", NAS_ID, "--count", str(users), "--json"),
        "cautiva grant issue --json",
    )
    return CautivaSetup(
        env=env,
        secret=secret,
        credentials=_credentials(grants, users),
        auth_port=auth_port,
        acct_port=acct_port,
        log_path=work_dir / "cautiva-radius.log",
        pid_path=work_dir / "cautiva-radius.pid",
    )


def version(env: Mapping[str, str]) -> str:
    """Return `cautiva --version`'s answer."""
    try:
        return cli(env, "--version", timeout=30).strip()
    except CautivaError:
        return "cautiva (version unknown)"


@contextmanager
def running(setup: CautivaSetup, ready_timeout: float = 30.0) -> Iterator[int]:
    """Run `cautiva radius` and yield its PID once it logs that it is listening."""
    command: Sequence[str] = [str(executable()), "radius"]
    with running_server(
        command,
        env=setup.env,
        log_path=setup.log_path,
        pid_path=setup.pid_path,
        ready_marker=READY,
        stale_marker=f"CAUTIVA_DATA_DIR={setup.env['CAUTIVA_DATA_DIR']}",
        ready_timeout=ready_timeout,
    ) as proc:
        yield proc.pid

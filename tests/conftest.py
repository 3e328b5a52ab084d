"""Shared fixtures: a migrated test database (PostgreSQL in CI, else SQLite) and a runtime.

`CAUTIVA_TEST_DATABASE_URL` names the server to test against; every run creates a database of
its own there and drops it afterwards. Under CI=true it must be set: a missing prerequisite is
a failure, never a silent skip.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from cautiva import migrate
from cautiva.credentials import new_secret
from cautiva.runtime import Runtime, start_runtime
from cautiva.settings import Settings
from radius_harness import RadiusProcess

TEST_SECRET_KEY = "test-secret-key-" + "k" * 48
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


async def _admin(url: str, statement: str) -> None:
    import asyncpg

    parsed = make_url(url)
    connection = await asyncpg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        database=parsed.database or "postgres",
    )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A freshly migrated database for this test run."""
    server = os.environ.get("CAUTIVA_TEST_DATABASE_URL", "")
    if not server:
        if _in_ci():
            pytest.fail("CI=true but CAUTIVA_TEST_DATABASE_URL is not set: CI tests PostgreSQL")
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'cautiva.db'}"
        _migrate(url, tmp_path_factory.mktemp("data"))
        yield url
        return
    name = f"cautiva_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        _migrate(url, tmp_path_factory.mktemp("data"))
        yield url
    finally:
        asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _migrate(url: str, data_dir: Path) -> None:
    migrate.upgrade(make_settings(url, data_dir))


def make_settings(url: str, data_dir: Path) -> Settings:
    """Settings for tests: this database, a fixed secret key, a private data folder."""
    settings = Settings(env="development", secret_key=TEST_SECRET_KEY, data_dir=data_dir)
    settings.database.url = url
    return settings


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    """A runtime on the test database (each test makes its own points and grants)."""
    rt = start_runtime(make_settings(database_url, tmp_path))
    try:
        yield rt
    finally:
        await rt.close()


@pytest.fixture
def nas_id() -> str:
    """A NAS-Identifier no other test uses."""
    return f"nas-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def strong_secret() -> str:
    """A strong RADIUS secret."""
    return new_secret(24)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where tests keep files for people to look at (screenshots, logs)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def radius_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RadiusProcess]:
    """One `cautiva radius` process for the session, on the test database."""
    data_dir = tmp_path_factory.mktemp("radius")
    server = RadiusProcess(
        {
            "CAUTIVA_ENV": "development",
            "CAUTIVA_DATABASE_URL": database_url,
            "CAUTIVA_SECRET_KEY": TEST_SECRET_KEY,
            "CAUTIVA_DATA_DIR": str(data_dir),
            "CAUTIVA_RADIUS_REJECT_DELAY": "0.3",
            "CAUTIVA_RADIUS_POINT_CACHE_TTL": "0",
            # Sweeps are tested on the service with a chosen clock; a live one would race them.
            "CAUTIVA_RADIUS_SWEEP_INTERVAL": "3600",
            "CAUTIVA_RADIUS_COA_TIMEOUT": "0.5",
            "CAUTIVA_RADIUS_STATUS_FLUSH_INTERVAL": "0.2",
        },
        data_dir / "radius.log",
    ).start()
    try:
        yield server
    finally:
        server.stop()
        (ARTIFACTS).mkdir(exist_ok=True)
        (ARTIFACTS / "radius-server.log").write_text(server.log_text())

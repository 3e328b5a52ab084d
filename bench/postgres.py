"""The local PostgreSQL the servers use: create bench databases and load data (asyncpg)."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg  # type: ignore[import-untyped]

_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


@dataclass(frozen=True, slots=True)
class Postgres:
    """Where PostgreSQL listens and who to connect as (trust authentication)."""

    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"

    @classmethod
    def from_env(cls) -> Postgres:
        """Read BENCH_PG_HOST, BENCH_PG_PORT and BENCH_PG_USER."""
        return cls(
            host=os.environ.get("BENCH_PG_HOST", "127.0.0.1"),
            port=int(os.environ.get("BENCH_PG_PORT", "5432")),
            user=os.environ.get("BENCH_PG_USER", "postgres"),
        )

    def dsn(self, database: str) -> str:
        """Return a libpq URL for `database`."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    def sqlalchemy_url(self, database: str) -> str:
        """Return a SQLAlchemy asyncpg URL for `database`."""
        return f"postgresql+asyncpg://{self.user}@{self.host}:{self.port}/{database}"

    def conninfo(self, database: str) -> str:
        """Return a libpq key=value connection string for `database`."""
        return f"host={self.host} port={self.port} dbname={database} user={self.user}"


def _checked(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"unsafe database name {name!r}")
    return name


async def _connect(pg: Postgres, database: str) -> Any:
    return await asyncpg.connect(
        host=pg.host, port=pg.port, user=pg.user, database=database, timeout=10
    )


async def _recreate(pg: Postgres, database: str) -> None:
    conn = await _connect(pg, "postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{_checked(database)}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{_checked(database)}"')
    finally:
        await conn.close()


async def _drop(pg: Postgres, database: str) -> None:
    conn = await _connect(pg, "postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{_checked(database)}" WITH (FORCE)')
    finally:
        await conn.close()


async def _script(pg: Postgres, database: str, sql: str) -> None:
    conn = await _connect(pg, database)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _copy(
    pg: Postgres, database: str, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    conn = await _connect(pg, database)
    try:
        await conn.copy_records_to_table(table, records=list(rows), columns=list(columns))
    finally:
        await conn.close()


async def _fetch_value(pg: Postgres, database: str, sql: str) -> Any:
    conn = await _connect(pg, database)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


async def _server_version(pg: Postgres) -> str:
    conn = await _connect(pg, "postgres")
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


def recreate_database(pg: Postgres, database: str) -> None:
    """Drop `database` (forcing connections out) and create it empty."""
    asyncio.run(_recreate(pg, database))


def drop_database(pg: Postgres, database: str) -> None:
    """Drop `database` if it exists."""
    asyncio.run(_drop(pg, database))


def run_script(pg: Postgres, database: str, sql: str) -> None:
    """Run a multi-statement SQL script in `database`."""
    asyncio.run(_script(pg, database, sql))


def copy_rows(
    pg: Postgres, database: str, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """COPY `rows` into `table`."""
    asyncio.run(_copy(pg, database, table, columns, rows))


def fetch_value(pg: Postgres, database: str, sql: str) -> Any:
    """Return the first column of the first row `sql` returns in `database`."""
    return asyncio.run(_fetch_value(pg, database, sql))


def server_version(pg: Postgres) -> str:
    """Return PostgreSQL's version string."""
    return asyncio.run(_server_version(pg))

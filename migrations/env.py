"""Alembic environment: runs migrations on the async engine Cautiva's settings describe."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from cautiva.database import create_engine
from cautiva.models import Base
from cautiva.settings import Settings

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables so one history serves both.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    url = context.config.attributes.get("database_url")
    settings = Settings()
    if url:
        settings.database.url = url
    engine = create_engine(settings.database)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `cautiva db upgrade`")
connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_async())

"""Schema migrations through Alembic, for the database in the settings."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from cautiva.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def alembic_config(settings: Settings) -> Config:
    """Return an Alembic config pointing at the project's migrations and `settings`' database."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = settings.database.url
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Upgrade the schema to `revision` (run outside any event loop)."""
    command.upgrade(alembic_config(settings), revision)


def current(settings: Settings) -> None:
    """Print the schema's current revision."""
    command.current(alembic_config(settings))

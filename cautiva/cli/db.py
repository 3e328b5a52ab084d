"""`cautiva db`: schema migrations."""

from __future__ import annotations

import click

from cautiva import migrate
from cautiva.cli.main import load_settings


@click.group()
def db() -> None:
    """Manage the database schema."""


@db.command()
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def upgrade(revision: str) -> None:
    """Create or upgrade the schema (PostgreSQL or SQLite)."""
    settings = load_settings()
    migrate.upgrade(settings, revision)
    click.echo(f"database at revision {revision}", err=True)


@db.command()
def current() -> None:
    """Print the schema's current revision."""
    migrate.current(load_settings())

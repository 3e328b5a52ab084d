"""Command-line entry point: parses arguments, runs one command, turns errors into one line."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from cautiva.errors import CautivaError
from cautiva.runtime import Runtime, start_runtime
from cautiva.settings import Settings

T = TypeVar("T")


def load_settings() -> Settings:
    """Build the settings from the environment, as one line on failure."""
    try:
        return Settings()
    except ValidationError as error:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
            for e in error.errors()
        )
        raise click.ClickException(f"bad settings: {details}") from None


def run_async(work: Callable[[Runtime], Awaitable[T]]) -> T:
    """Run `work` with a runtime built for this command, then release it."""

    async def runner() -> T:
        runtime = start_runtime(load_settings())
        try:
            return await work(runtime)
        finally:
            await runtime.close()

    return asyncio.run(runner())


def configure_logging(level: str = "INFO") -> None:
    """Send log lines to stderr in one compact format."""
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cautiva")
def cli() -> None:
    """Cautiva: hotspot controller for humanitarian Wi-Fi."""


def _register() -> None:
    from cautiva.cli import db, exports, forms, grants, points, servers, sessions, staff, texts

    cli.add_command(db.db)
    cli.add_command(points.point)
    cli.add_command(grants.grant)
    cli.add_command(forms.form)
    cli.add_command(exports.export)
    cli.add_command(texts.text)
    cli.add_command(sessions.session)
    cli.add_command(staff.user)
    cli.add_command(staff.token)
    cli.add_command(servers.radius)
    cli.add_command(servers.portal)
    cli.add_command(servers.serve)
    cli.add_command(servers.demo)

    from cautiva.cli import alerts

    cli.add_command(alerts.alert)

    from cautiva.cli import referrals

    cli.add_command(referrals.referral)

    from cautiva.cli import retention

    cli.add_command(retention.purge)


def _fail(message: str, code: int) -> int:
    click.echo(f"cautiva: error: {message}", err=True)
    return code


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; every failure is one line on stderr and a non-zero exit code."""
    _register()
    try:
        result = cli.main(args=argv, prog_name="cautiva", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.format_message(), err=True)
        return 2
    except click.UsageError as exc:
        return _fail(exc.format_message().replace("\n", " "), 2)
    except click.ClickException as exc:
        return _fail(exc.format_message(), 1)
    except click.Abort:
        return _fail("aborted", 1)
    except CautivaError as exc:
        return _fail(str(exc), 1)
    except SQLAlchemyError as exc:
        original = getattr(exc, "orig", None)
        first = (str(original or exc).splitlines() or ["unknown error"])[0]
        return _fail(f"database: {first} (is the schema up to date? run `cautiva db upgrade`)", 1)
    except OSError as exc:
        return _fail(str(exc), 1)
    except KeyboardInterrupt:
        return 130
    return result if isinstance(result, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

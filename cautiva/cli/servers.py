"""`cautiva radius`, `cautiva portal`, `cautiva serve` and `cautiva demo`: running the system."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Coroutine
from typing import Any

import click

from cautiva import migrate
from cautiva.cli.main import configure_logging, load_settings, run_async
from cautiva.cli.output import emit
from cautiva.cli.points import point_record
from cautiva.database import transaction
from cautiva.models import NasType
from cautiva.points import service
from cautiva.runtime import Runtime, start_runtime
from cautiva.settings import Settings

DEMO_NAS_ID = "cautiva-demo"


def _event_loop_policy() -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


LOG_LEVEL = click.option("--log-level", default="INFO", show_default=True, help="Logging level.")


@click.command()
@LOG_LEVEL
def radius(log_level: str) -> None:
    """Run the RADIUS server (auth and accounting ports) in the foreground."""
    _run_servers(log_level, with_radius=True, with_portal=False)


@click.command()
@LOG_LEVEL
def portal(log_level: str) -> None:
    """Run the portal alone on CAUTIVA_PORTAL_HOST:CAUTIVA_PORTAL_PORT."""
    _run_servers(log_level, with_radius=False, with_portal=True)


@click.command()
@LOG_LEVEL
def serve(log_level: str) -> None:
    """Run everything: the RADIUS server and the portal."""
    _run_servers(log_level, with_radius=True, with_portal=True)


def _run_servers(log_level: str, *, with_radius: bool, with_portal: bool) -> None:
    """Run the chosen servers in one event loop until SIGTERM or SIGINT."""
    configure_logging(log_level)
    settings = load_settings()
    _event_loop_policy()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        runtime = start_runtime(settings)
        work: list[Coroutine[Any, Any, None]] = []
        if with_radius:
            from radius.server import run_radius

            work.append(run_radius(runtime, stop))
        if with_portal:
            from portal_api.server import run_portal

            work.append(run_portal(settings, stop))
        try:
            await asyncio.gather(*work)
        finally:
            await runtime.close()

    asyncio.run(main())


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def demo(as_json: bool) -> None:
    """Migrate, create the demo point if there are no points, and print how to use it."""
    settings = load_settings()
    migrate.upgrade(settings)

    async def work(runtime: Runtime) -> dict[str, Any]:
        async with transaction(runtime.sessions) as session:
            points = await service.list_points(session)
            if not points:
                created = await service.add_point(
                    session,
                    new=service.NewPoint(
                        name="Demo point", nas_id=DEMO_NAS_ID, nas_type=NasType.MIKROTIK
                    ),
                )
                click.echo(f"created the demo point {created.nas_id!r}", err=True)
                points = [created]
            return _demo_record(settings, point_record(points[0], with_secrets=True))

    emit(run_async(work), as_json=as_json)


def _demo_record(settings: Settings, point: dict[str, Any]) -> dict[str, Any]:
    host = "127.0.0.1" if settings.radius.host in ("0.0.0.0", "::") else settings.radius.host
    return {
        "nas_id": point["nas_id"],
        "nas_type": point["nas_type"],
        "secret": point["secret"],
        "radius_auth": f"{host}:{settings.radius.auth_port}",
        "radius_acct": f"{host}:{settings.radius.acct_port}",
        "health": f"http://{host}:{settings.portal.port}/healthz",
        "api_docs": f"http://{host}:{settings.portal.port}/docs",
        "splash": f"http://{host}:{settings.portal.port}/p/{point['nas_id']}",
        "admin": f"http://{host}:{settings.portal.port}/admin "
        "(first: cautiva user add EMAIL --role admin)",
        "test_login": f"cautiva grant issue --point {point['nas_id']}",
    }

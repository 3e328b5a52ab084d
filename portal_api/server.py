"""Running the portal under uvicorn inside an existing event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn

from cautiva.settings import Settings
from portal_api.app import create_app


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the shared stop event ends it instead."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def run_portal(settings: Settings, stop: asyncio.Event) -> None:
    """Serve the portal on `CAUTIVA_PORTAL_HOST:PORT` until `stop` is set."""
    config = uvicorn.Config(
        create_app(settings),
        host=settings.portal.host,
        port=settings.portal.port,
        log_level="info",
        lifespan="on",
    )
    server = _Server(config)

    async def watch() -> None:
        await stop.wait()
        server.should_exit = True

    watcher = asyncio.get_running_loop().create_task(watch())
    try:
        await server.serve()
    finally:
        watcher.cancel()

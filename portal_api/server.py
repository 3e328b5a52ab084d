"""Running the portal under uvicorn inside an existing event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

import uvicorn

from cautiva.settings import Settings
from portal_api.app import create_app


class PrivateAccessLog(logging.Filter):
    """uvicorn's access log without query strings or client addresses.

    Router redirects put the phone's MAC and IP in the query (`/p/NAS?mac=...&ip=...`); the
    log keeps the path, the method and the status, which is what operations need.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's arguments in place; never drop a line."""
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            _client, method, path, version, status = args
            record.args = ("-", method, str(path).split("?", 1)[0], version, status)
        return True


def quiet_access_log() -> None:
    """Install `PrivateAccessLog` on uvicorn's access logger (once)."""
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, PrivateAccessLog) for f in logger.filters):
        logger.addFilter(PrivateAccessLog())


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
    quiet_access_log()

    async def watch() -> None:
        await stop.wait()
        server.should_exit = True

    watcher = asyncio.get_running_loop().create_task(watch())
    try:
        await server.serve()
    finally:
        watcher.cancel()

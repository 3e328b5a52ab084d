"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from cautiva import __version__
from cautiva.runtime import start_runtime
from cautiva.settings import Settings
from portal_api.api import points
from portal_api.errors import install_error_handlers


def create_app(settings: Settings) -> FastAPI:
    """Build the portal application; its database engine is created in the lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = start_runtime(settings)
        app.state.runtime = runtime
        try:
            yield
        finally:
            await runtime.close()

    app = FastAPI(title="Cautiva portal", version=__version__, lifespan=lifespan)
    install_error_handlers(app)
    app.include_router(points.router)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    return app

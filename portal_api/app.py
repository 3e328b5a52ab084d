"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from cautiva import __version__
from cautiva.database import transaction
from cautiva.forms.service import ensure_default_forms
from cautiva.runtime import start_runtime
from cautiva.settings import Settings
from portal_api.admin import alerts_pages, dashboards, exports_pages, referral_pages
from portal_api.admin import api as admin_api
from portal_api.admin import pages as admin_pages
from portal_api.alerts_worker import run_alerts
from portal_api.api import captive, heartbeat, points
from portal_api.errors import install_error_handlers
from portal_api.funnel import FunnelBuffer
from portal_api.ratelimit import PortalLimits
from portal_api.splash import routes as splash


def create_app(settings: Settings) -> FastAPI:
    """Build the portal application; its database engine is created in the lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = start_runtime(settings)
        app.state.runtime = runtime
        # Publish the shipped forms before the first phone arrives (a no-op once published).
        async with transaction(runtime.sessions) as session:
            await ensure_default_forms(session)
        flusher = asyncio.create_task(
            app.state.funnel.run(runtime, settings.portal.counter_flush_interval)
        )
        alerts = asyncio.create_task(run_alerts(runtime, settings.alerts.check_interval))
        try:
            yield
        finally:
            alerts.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await alerts
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            await runtime.close()

    app = FastAPI(title="Cautiva portal", version=__version__, lifespan=lifespan)
    install_error_handlers(app)
    app.state.funnel = FunnelBuffer()
    app.state.portal_limits = PortalLimits(
        settings.portal.rate_per_device, settings.portal.rate_per_point
    )
    app.include_router(points.router)
    app.include_router(captive.router)
    app.include_router(heartbeat.router)
    app.include_router(admin_api.router)
    app.include_router(admin_pages.router)
    app.include_router(referral_pages.router)
    app.include_router(alerts_pages.router)
    app.include_router(exports_pages.router)
    app.include_router(dashboards.router)
    admin_pages.install_admin_handlers(app)
    app.include_router(splash.router)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    return app

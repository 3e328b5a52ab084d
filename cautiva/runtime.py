"""One process's runtime: its settings, engine and session factory, built at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cautiva.database import create_engine, create_session_factory
from cautiva.policy import SessionRules
from cautiva.settings import SessionSettings, Settings


@dataclass(slots=True)
class Runtime:
    """Everything a process shares: settings, the engine and the session factory."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @property
    def rules(self) -> SessionRules:
        """The session policy's rules from the settings."""
        return session_rules(self.settings.session)

    async def close(self) -> None:
        """Release the database connections."""
        await self.engine.dispose()


def start_runtime(settings: Settings) -> Runtime:
    """Build the engine and session factory for `settings`."""
    engine = create_engine(settings.database)
    return Runtime(settings=settings, engine=engine, sessions=create_session_factory(engine))


def session_rules(settings: SessionSettings) -> SessionRules:
    """Return the policy's rules from the `CAUTIVA_SESSION_*` settings."""
    return SessionRules(
        limit=settings.limit,
        idle_timeout=settings.idle_timeout,
        interim_interval=settings.interim_interval,
        grant_max_age=settings.grant_max_age,
        overrun_grace=settings.overrun_grace,
        rate_down_kbps=settings.rate_down_kbps,
        rate_up_kbps=settings.rate_up_kbps,
    )

"""Dependencies: the runtime built in the lifespan, and one transaction per request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.database import transaction
from cautiva.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    """The process's runtime (settings, engine, session factory)."""
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_session(
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> AsyncIterator[AsyncSession]:
    """A session whose transaction commits when the request succeeds, else rolls back."""
    async with transaction(runtime.sessions) as session:
        yield session


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]

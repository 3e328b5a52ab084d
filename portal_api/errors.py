"""Domain errors rendered as HTTP answers with a reason: never a 500 for bad input."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from cautiva.errors import CautivaError, Conflict, InvalidAnswers, NotFound


def status_of(error: CautivaError) -> int:
    """404 for what does not exist, 409 for clashes, 422 for input that breaks a rule."""
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, Conflict):
        return 409
    return 422


def install_error_handlers(app: FastAPI) -> None:
    """Render every CautivaError as JSON `{"detail": ...}` with its status."""

    @app.exception_handler(CautivaError)
    async def domain_error(request: Request, error: CautivaError) -> JSONResponse:
        detail: object = (
            {"errors": error.errors} if isinstance(error, InvalidAnswers) else str(error)
        )
        return JSONResponse(status_code=status_of(error), content={"detail": detail})

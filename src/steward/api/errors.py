"""One mapping from the project's errors to HTTP responses."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from steward.errors import StewardError, TooManyRequests, Unavailable

log = logging.getLogger(__name__)


def error_response(exc: StewardError) -> JSONResponse:
    """Render a `StewardError` with its status (and Retry-After where it applies)."""
    headers = {}
    if isinstance(exc, TooManyRequests | Unavailable):
        headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    if exc.status_code == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(exc.as_dict(), status_code=exc.status_code, headers=headers)


def install(app: FastAPI) -> None:
    """Register handlers: our errors, request validation, and a last-resort 500."""

    @app.exception_handler(StewardError)
    async def _steward(_request: Request, exc: StewardError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
            errors.append({"field": ".".join(loc) or "body", "message": err.get("msg", "")})
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return JSONResponse({"error": f"invalid request: {summary}", "code": "invalid_input",
                               "errors": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail), "code": "http_error"},
                              status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        # Never leak a stack trace or message (it may carry data) to the caller.
        log.error("unhandled error: %s", exc.__class__.__name__, exc_info=exc)
        return JSONResponse({"error": "internal error", "code": "internal"}, status_code=500)

"""One mapping from the project's errors to HTTP responses."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from steward.audit.context import current_request_id
from steward.errors import InvalidInput, StewardError, TooManyRequests, Unavailable

log = logging.getLogger(__name__)


def error_response(exc: StewardError) -> JSONResponse:
    """Render a `StewardError` with its status (and Retry-After where it applies)."""
    headers = {}
    if isinstance(exc, TooManyRequests | Unavailable):
        headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    if exc.status_code == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(exc.as_dict(), status_code=exc.status_code, headers=headers)


def audit_refusal(request: Request, exc: StewardError) -> None:
    """Queue denied attempts (401, 403, hidden 404) and refused changes for the audit trail."""
    denied = exc.status_code in (401, 403) or getattr(exc, "denied", False)
    if not denied and (request.method in ("GET", "HEAD", "OPTIONS") or exc.status_code >= 500):
        return
    state = getattr(request.app.state, "steward", None)
    if state is None:
        return
    principal = getattr(request.state, "principal", None)
    route = request.scope.get("route")
    state.audit.denied(
        action=f"{request.method} {getattr(route, 'path', request.url.path)}",
        target=request.url.path, reason=f"{exc.status_code} {exc.code}: {exc.message}",
        actor=principal.name if principal else None,
        actor_id=principal.key_id if principal else None,
        request_id=current_request_id(),
        outcome="denied" if denied else "rejected")


def install(app: FastAPI) -> None:
    """Register handlers: our errors, request validation, and a last-resort 500."""

    @app.exception_handler(StewardError)
    async def _steward(request: Request, exc: StewardError) -> JSONResponse:
        audit_refusal(request, exc)
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
            errors.append({"field": ".".join(loc) or "body", "message": err.get("msg", "")})
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        audit_refusal(request, InvalidInput(f"invalid request: {summary}"))
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

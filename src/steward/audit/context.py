"""Per-request context (request id, caller) that services read without touching HTTP."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from steward.security.principal import Principal

_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


@dataclass
class RequestContext:
    """Mutable on purpose: sync dependencies run in copied contexts, so they fill this in."""

    request_id: str
    principal: Principal | None = None


_current: ContextVar[RequestContext | None] = ContextVar("steward_request", default=None)


def current() -> RequestContext | None:
    """The context of the request being handled, if any."""
    return _current.get()


def current_request_id() -> str | None:
    """The request id of the request being handled, if any."""
    ctx = _current.get()
    return ctx.request_id if ctx else None


def set_principal(principal: Principal) -> None:
    """Remember who is calling (for the audit trail's actor)."""
    ctx = _current.get()
    if ctx is not None:
        ctx.principal = principal


def request_id_from(raw: str | None) -> str:
    """Use the caller's `x-request-id` when it is well-formed, else a fresh one."""
    if raw and _VALID_ID.match(raw):
        return raw
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Pure ASGI: assigns a request id, exposes it to services, echoes `x-request-id`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"),
                   None)
        ctx = RequestContext(request_id_from(raw))
        token = _current.set(ctx)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(k.lower() == b"x-request-id" for k, _ in headers):
                    headers.append((b"x-request-id", ctx.request_id.encode()))
                    message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _current.reset(token)

"""Template rendering, security headers and the HTML error pages of the dashboard."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from importlib.metadata import version
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from starlette.responses import RedirectResponse, Response

from steward import __version__
from steward.errors import StewardError
from steward.ui.session import LoginRequired, UISession, login_url

log = logging.getLogger(__name__)

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.globals["steward_version"] = __version__
templates.env.globals["plotly_version"] = version("plotly")

# Plotly draws with inline styles; scripts come only from /ui/static (data is inert JSON).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
       "form-action 'self'")
SECURITY_HEADERS = {"Content-Security-Policy": CSP, "X-Frame-Options": "DENY",
                    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
                    "Cache-Control": "no-store"}

NAV = (("Models", "/ui/models", "models:read"),
       ("Deployments", "/ui/deployments", "deployments:read"),
       ("Monitoring", "/ui/monitoring", "monitor:read"),
       ("Approvals", "/ui/approvals", "models:read"),
       ("Audit log", "/ui/audit", "audit:read"))


def nav_for(session: UISession | None) -> list[tuple[str, str]]:
    """Menu entries the principal may open."""
    if session is None:
        return []
    return [(label, href) for label, href, op in NAV if session.principal.allows(op)]


def page(request: Request, name: str, session: UISession | None, status_code: int = 200,
         **context: Any) -> Response:
    """Render a dashboard template with the shared layout context and security headers."""
    response = templates.TemplateResponse(
        request, name, {"session": session, "nav": nav_for(session),
                        "who": session.principal if session else None,
                        "csrf": session.csrf if session else None, **context},
        status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    return response


def error_page(request: Request, exc: StewardError) -> Response:
    """An HTML page for a service error (404 hides what the principal may not know)."""
    if isinstance(exc, LoginRequired):
        return RedirectResponse(login_url(request), status_code=303)
    title = {404: "Not found", 403: "Not allowed", 409: "Conflict"}.get(exc.status_code,
                                                                        "Request refused")
    return page(request, "error.html", None, status_code=exc.status_code, title=title,
                message=exc.message)


class UIRoute(APIRoute):
    """A dashboard route: project errors become HTML pages, a missing session a redirect."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap FastAPI's handler (dependencies included) with the HTML error mapping."""
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except StewardError as exc:
                return error_page(request, exc)

        return run

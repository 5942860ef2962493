"""Sign-in, sign-out and the dashboard's static assets (Plotly served from the wheel)."""

from __future__ import annotations

import gzip
import secrets
from functools import cache
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from steward.api.deps import StateDep
from steward.errors import NotFound, PermissionDenied, Unauthenticated
from steward.ui import session as sessions
from steward.ui.render import UIRoute, page

router = APIRouter(route_class=UIRoute)

_STATIC = Path(__file__).parent / "static"
_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
_YEAR = "public, max-age=31536000, immutable"


@cache
def _plotly() -> tuple[bytes, bytes, str]:
    """Plotly's JS bundle from the `plotly` package (raw, gzipped, version); read once."""
    import plotly
    from plotly.offline import get_plotlyjs

    raw = get_plotlyjs().encode()
    return raw, gzip.compress(raw, 6), str(plotly.__version__)


@router.get("/static/plotly.min.js")
def plotly_js(request: Request) -> Response:
    """The Plotly bundle, never fetched from a CDN; cached for a year (URL carries version)."""
    raw, packed, version = _plotly()
    etag = f'"plotly-{version}"'
    headers = {"Cache-Control": _YEAR, "ETag": etag, "Vary": "Accept-Encoding"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(packed, media_type=_TYPES[".js"],
                        headers={**headers, "Content-Encoding": "gzip"})
    return Response(raw, media_type=_TYPES[".js"], headers=headers)


@router.get("/static/{name}")
def static(name: str) -> Response:
    """The dashboard's own stylesheet and script."""
    path = _STATIC / name
    if name not in {"steward.css", "steward.js"} or not path.is_file():
        raise NotFound(f"no static file {name!r}")
    return Response(path.read_bytes(), media_type=_TYPES[path.suffix],
                    headers={"Cache-Control": "public, max-age=3600"})


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    """The sign-in form (API key or OIDC token)."""
    csrf = request.cookies.get(sessions.LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = page(request, "login.html", None, login_csrf=csrf,
                    next=sessions.safe_next(next), error=None)
    sessions.set_cookie(request, response, sessions.LOGIN_CSRF_COOKIE, csrf, max_age=3600)
    return response


@router.post("/login")
def login(request: Request, state: StateDep, token: Annotated[str, Form()] = "",
          csrf_token: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "/ui") -> Response:
    """Check the key like the API does; on success keep it sealed in an HttpOnly cookie."""
    sessions.check_origin(request)
    expected = request.cookies.get(sessions.LOGIN_CSRF_COOKIE)
    sessions.check_csrf(expected, csrf_token)
    try:
        state.keys.authenticate(token.strip() or None)
    except Unauthenticated as exc:
        response = page(request, "login.html", None, status_code=401, login_csrf=expected,
                        next=sessions.safe_next(next), error=exc.message)
        return response
    response = RedirectResponse(sessions.safe_next(next), status_code=303)
    sealed = sessions.seal(state, token.strip(), secrets.token_urlsafe(32))
    sessions.set_cookie(request, response, sessions.SESSION_COOKIE, sealed)
    sessions.clear_cookie(request, response, sessions.LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, state: StateDep,
           csrf_token: Annotated[str, Form()] = "") -> Response:
    """Forget the session cookie (the CSRF token proves the click came from our page)."""
    sessions.check_origin(request)
    value = request.cookies.get(sessions.SESSION_COOKIE)
    opened = sessions.unseal(state, value) if value else None
    if opened is not None:
        sessions.check_csrf(opened[1], csrf_token)
    elif value:
        raise PermissionDenied("session expired; sign in again")
    response = RedirectResponse("/ui/login", status_code=303)
    sessions.clear_cookie(request, response, sessions.SESSION_COOKIE)
    return response


@router.get("/")
def index(ui: sessions.UI) -> Response:
    """Start on the first area the principal may see."""
    from steward.ui.render import nav_for

    entries = nav_for(ui)
    return RedirectResponse(entries[0][1] if entries else "/ui/account", status_code=303)


@router.get("/account")
def account(request: Request, ui: sessions.UI) -> Response:
    """Who is signed in and what they may do (never the key itself)."""
    from steward.security.principal import ROLE_OPERATIONS

    return page(request, "account.html", ui, operations=sorted(ROLE_OPERATIONS[ui.principal.role]))

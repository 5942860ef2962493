"""Dashboard sign-in: an encrypted session cookie, CSRF tokens and the principal of a page.

The cookie holds the presented API key (or OIDC token) sealed with AES-GCM under a key derived
from the master key, so it is opaque to the browser and to anyone reading its storage, and it
works across worker processes. Every request re-authenticates the sealed token through
`state.keys.authenticate`, the same path as the API: revocation and expiry apply at once.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote, urlsplit

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import Depends, Request
from starlette.responses import Response

from steward.api.deps import get_state
from steward.audit import context as audit_context
from steward.errors import PermissionDenied, StewardError, Unauthenticated
from steward.security.principal import Principal
from steward.state import AppState

SESSION_COOKIE = "steward_session"
LOGIN_CSRF_COOKIE = "steward_login_csrf"
SESSION_MAX_AGE_S = 12 * 3600
_AAD = b"steward-ui-session-v1"


class LoginRequired(StewardError):
    """No valid dashboard session: the page redirects to the sign-in form."""

    status_code = 401
    code = "login_required"


@dataclass(frozen=True)
class UISession:
    """An authenticated dashboard visit: who, and the CSRF token of their forms."""

    principal: Principal
    csrf: str


def _cipher(state: AppState) -> AESGCM:
    return AESGCM(state.master.derive("ui-session"))


def seal(state: AppState, token: str, csrf: str, *, now: float | None = None) -> str:
    """Encrypt a session (token, CSRF token, issue time) into a cookie value."""
    payload = json.dumps({"t": token, "c": csrf, "iat": int(now or time.time())}).encode()
    nonce = secrets.token_bytes(12)
    sealed = nonce + _cipher(state).encrypt(nonce, payload, _AAD)
    return base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def unseal(state: AppState, value: str, *, now: float | None = None) -> tuple[str, str] | None:
    """The (token, CSRF token) of a cookie value, or None if forged, corrupt or expired."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        payload = json.loads(_cipher(state).decrypt(raw[:12], raw[12:], _AAD))
    except (InvalidTag, ValueError, binascii.Error):
        return None
    age = (now or time.time()) - float(payload.get("iat", 0))
    if not 0 <= age <= SESSION_MAX_AGE_S:
        return None
    return str(payload["t"]), str(payload["c"])


def set_cookie(request: Request, response: Response, name: str, value: str,
               max_age: int | None = SESSION_MAX_AGE_S) -> None:
    """Set a dashboard cookie: HttpOnly, SameSite=Strict, Secure over HTTPS, path /ui."""
    response.set_cookie(name, value, max_age=max_age, path="/ui", httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")


def clear_cookie(request: Request, response: Response, name: str) -> None:
    """Remove a dashboard cookie."""
    response.delete_cookie(name, path="/ui", httponly=True, samesite="strict",
                           secure=request.url.scheme == "https")


def login_url(request: Request) -> str:
    """The sign-in form, returning to the current page afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/ui/login?next={quote(target, safe='')}"


def safe_next(target: str | None) -> str:
    """A post-login destination inside the dashboard only (no open redirect)."""
    if not target or not target.startswith("/ui") or target.startswith("//"):
        return "/ui"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return "/ui"
    return target


def get_ui_session(request: Request,
                   state: Annotated[AppState, Depends(get_state)]) -> UISession:
    """The signed-in principal of this page view, else `LoginRequired`."""
    value = request.cookies.get(SESSION_COOKIE)
    opened = unseal(state, value) if value else None
    if opened is None:
        raise LoginRequired("sign in to continue")
    token, csrf = opened
    try:
        principal = state.keys.authenticate(token)
    except Unauthenticated as exc:
        raise LoginRequired(exc.message) from exc
    request.state.principal = principal
    audit_context.set_principal(principal)  # audit entries name the dashboard user
    return UISession(principal=principal, csrf=csrf)


def check_origin(request: Request) -> None:
    """Refuse a cross-site form post: Origin (or Referer) must be this dashboard's host."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin is None:
        return  # non-browser clients send neither; the CSRF token still has to match
    parts = urlsplit(origin)
    if parts.netloc != request.url.netloc or parts.scheme != request.url.scheme:
        raise PermissionDenied("cross-site form submission refused")


def check_csrf(expected: str | None, presented: str | None) -> None:
    """Constant-time comparison of a form's CSRF token with the session's."""
    if not expected or not presented or not hmac.compare_digest(expected, presented):
        raise PermissionDenied("missing or invalid CSRF token; reload the page and retry")


UI = Annotated[UISession, Depends(get_ui_session)]

"""FastAPI dependencies: state, sessions, authentication, authorization."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from steward.errors import NotFound, PermissionDenied
from steward.security.principal import Principal
from steward.state import AppState


def get_state(request: Request) -> AppState:
    """The app's services."""
    state: AppState = request.app.state.steward
    return state


def bearer_token(request: Request) -> str | None:
    """The credential from `Authorization: Bearer …` (or `X-API-Key`)."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        return token.strip() if scheme.lower() == "bearer" else None
    return request.headers.get("x-api-key")


def get_principal(request: Request, state: Annotated[AppState, Depends(get_state)]) -> Principal:
    """Authenticate the caller (401 when unknown)."""
    principal = state.keys.authenticate(bearer_token(request))
    request.state.principal = principal
    return principal


def get_session(state: Annotated[AppState, Depends(get_state)]) -> Iterator[Session]:
    """One transaction per request: committed on success, rolled back on error."""
    with state.factory() as session, session.begin():
        yield session


def require(operation: str) -> Callable[..., Principal]:
    """Dependency: the caller must hold `operation` (on the path's model, if any)."""

    def check(request: Request,
              principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        resource = request.path_params.get("name")
        if not principal.allows(operation, resource):
            if resource is not None and not principal.allows("models:read", resource):
                # Callers without any right on a model must not learn whether it exists.
                raise NotFound(f"{resource!r} not found")
            raise PermissionDenied(f"this key lacks the {operation!r} permission")
        return principal

    return check


StateDep = Annotated[AppState, Depends(get_state)]
SessionDep = Annotated[Session, Depends(get_session)]

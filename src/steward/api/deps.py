"""FastAPI dependencies: state, sessions, authentication, authorization."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from steward.audit import context as audit_context
from steward.security.authz import authorize
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
    audit_context.set_principal(principal)
    return principal


def get_session(state: Annotated[AppState, Depends(get_state)]) -> Iterator[Session]:
    """One transaction per request: committed on success, rolled back on error."""
    with state.factory() as session, session.begin():
        yield session


def require(operation: str) -> Callable[..., Principal]:
    """Dependency: the caller must hold `operation` (on the path's model, if any)."""

    def check(request: Request,
              principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        # Callers without any right on a model must not learn whether it exists (404).
        authorize(principal, operation, request.path_params.get("name"))
        return principal

    return check


StateDep = Annotated[AppState, Depends(get_state)]
# scope="function": commit before the response is sent, so a caller never reads stale state.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

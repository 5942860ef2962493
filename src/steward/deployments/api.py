"""Deployment routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from steward.api.deps import SessionDep, get_principal
from steward.deployments import reports, service
from steward.deployments.schemas import DeploymentCreate, DeploymentOut, EventOut, RoutingChange
from steward.errors import PermissionDenied
from steward.security.authz import authorize
from steward.security.principal import Principal

router = APIRouter(prefix="/api/v1/deployments", tags=["deployments"])
Caller = Annotated[Principal, Depends(get_principal)]


class RollbackIn(BaseModel):
    """Optional reason for a rollback."""

    reason: str | None = None


def _allow(who: Principal, operation: str, name: str, environment: str | None) -> None:
    authorize(who, operation, name, environment, kind="deployment")


@router.post("", status_code=201)
def create(spec: DeploymentCreate, session: SessionDep, who: Caller) -> DeploymentOut:
    """Create an endpoint in an environment."""
    if not who.allows("deploy", spec.name, spec.environment):  # nothing to hide: it is new
        raise PermissionDenied(f"this key may not deploy to {spec.environment}")
    return service.create_deployment(session=session, spec=spec, actor=who.name)


@router.get("")
def list_(session: SessionDep, who: Caller) -> list[DeploymentOut]:
    """Deployments the caller may see."""
    return [d for d in service.list_deployments(session=session)
            if who.allows("deployments:read", d.name, d.environment)]


@router.get("/{name}")
def get(name: str, session: SessionDep, who: Caller) -> DeploymentOut:
    """One deployment."""
    row = service.get_deployment(session=session, name=name)
    _allow(who, "deployments:read", name, row.environment)
    return service.deployment_out(session, row)


@router.patch("/{name}")
def change(name: str, body: RoutingChange, request: Request, session: SessionDep,
           who: Caller) -> DeploymentOut:
    """Change champion, canary, share, shadows, mode, fallback or policy."""
    row = service.get_deployment(session=session, name=name)
    _allow(who, "deploy", name, row.environment)
    return service.change_routing(session=session, name=name, change=body, actor=who.name)


@router.post("/{name}/rollback")
def rollback(name: str, session: SessionDep, who: Caller,
             body: RollbackIn | None = None) -> DeploymentOut:
    """Restore the routing in force before the latest change."""
    row = service.get_deployment(session=session, name=name)
    _allow(who, "deploy", name, row.environment)
    return service.rollback(session=session, name=name, actor=who.name,
                            reason=body.reason if body else None)


@router.get("/{name}/events")
def history(name: str, session: SessionDep, who: Caller) -> list[EventOut]:
    """Routing history."""
    row = service.get_deployment(session=session, name=name)
    _allow(who, "deployments:read", name, row.environment)
    return service.events(session=session, name=name)


@router.delete("/{name}", status_code=204)
def delete(name: str, session: SessionDep, who: Caller) -> None:
    """Remove an endpoint."""
    row = service.get_deployment(session=session, name=name)
    _allow(who, "deploy", name, row.environment)
    service.delete_deployment(session=session, name=name)


@router.get("/{name}/shadow-report")
def shadow_report(name: str, session: SessionDep, who: Caller,
                  limit: int = 10_000) -> dict[str, object]:
    """Agreement, score difference and latency of each shadow vs the answer served."""
    row = service.get_deployment(session=session, name=name)
    _allow(who, "deployments:read", name, row.environment)
    return reports.shadow_report(session=session, name=name, limit=min(max(limit, 1), 100_000))


@router.get("/{name}/ab-report")
def ab_report(name: str, session: SessionDep, who: Caller,
              alpha: float = 0.05) -> dict[str, object]:
    """Per-arm outcomes and the significance test of challenger vs champion."""
    row = service.get_deployment(session=session, name=name)
    _allow(who, "deployments:read", name, row.environment)
    return reports.ab_report(session=session, name=name, alpha=alpha)

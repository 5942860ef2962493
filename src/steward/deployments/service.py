"""Deployment logic: create, change routing (with contract checks), roll back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward import audit, sync
from steward.db import utcnow
from steward.deployments.schemas import (
    DeploymentCreate,
    DeploymentOut,
    EventOut,
    RoutingChange,
    VersionRef,
)
from steward.deployments.tables import Deployment, DeploymentEvent
from steward.errors import Conflict, InvalidInput, NotFound
from steward.registry import service as registry
from steward.registry.contract import Contract, breaking_changes
from steward.registry.tables import ModelVersion


def create_deployment(*, session: Session, spec: DeploymentCreate, actor: str) -> DeploymentOut:
    """Create an endpoint serving `spec.model@spec.version`."""
    if session.scalar(select(Deployment.id).where(Deployment.name == spec.name)):
        raise Conflict(f"deployment {spec.name!r} already exists", field="name")
    champion = registry.get_version(session=session, name=spec.model, ref=spec.version)
    _check_promoted(spec.environment, champion)
    fallback = _resolve(session, spec.fallback, champion) if spec.fallback else None
    if fallback is not None:
        _check_promoted(spec.environment, fallback)
    if fallback is not None:
        _check_fallback(champion, fallback)
    row = Deployment(name=spec.name, environment=spec.environment, description=spec.description,
                     champion_version_id=champion.id, routing_key=spec.routing_key,
                     fallback_version_id=fallback.id if fallback else None,
                     fallback_default=spec.fallback_default,
                     policy=spec.policy.model_dump(mode="json"), created_by=actor,
                     created_at=utcnow(), updated_at=utcnow())
    session.add(row)
    session.flush()
    _event(session, row, "create", None, actor)
    sync.bump(session, "deployments")
    return deployment_out(session, row)


def change_routing(*, session: Session, name: str, change: RoutingChange,
                   actor: str) -> DeploymentOut:
    """Apply a routing change; a breaking contract change needs `force` (recorded)."""
    row = get_deployment(session=session, name=name)
    before = _routing(row)
    current = session.get_one(ModelVersion, row.champion_version_id)
    problems: list[str] = []
    if change.champion is not None:
        new = _resolve(session, change.champion, current)
        _check_promoted(row.environment, new)
        problems += _compat(current, new)
        row.champion_version_id = new.id
        if row.canary_version_id == new.id:  # promoting the canary ends the rollout
            row.canary_version_id, row.canary_share = None, 0.0
    if change.canary is not None:
        canary = _resolve(session, change.canary, current)
        _check_promoted(row.environment, canary)
        problems += _compat(current, canary)
        row.canary_version_id = canary.id
    if change.remove_canary:
        row.canary_version_id, row.canary_share = None, 0.0
    if change.canary_share is not None:
        if row.canary_version_id is None and change.canary_share > 0:
            raise InvalidInput("set a canary version before giving it traffic",
                               field="canary_share")
        row.canary_share = change.canary_share
    if change.shadows is not None:
        row.shadow_version_ids = [_resolve(session, s, current).id for s in change.shadows]
    if change.mode is not None:
        row.mode = change.mode
    if change.fallback is not None:
        fallback = _resolve(session, change.fallback, current)
        _check_promoted(row.environment, fallback)
        _check_fallback(current, fallback)
        row.fallback_version_id = fallback.id
    if change.fallback_default is not None:
        row.fallback_default = change.fallback_default
    if change.policy is not None:
        row.policy = change.policy.model_dump(mode="json")
    if problems and not change.force:
        raise Conflict("breaking contract change: " + "; ".join(problems)
                       + " (pass force with a reason to override)", field="version")
    if problems and not change.reason:
        raise InvalidInput("a forced breaking change needs a reason", field="reason")
    row.updated_at = utcnow()
    session.flush()
    _event(session, row, "change", before, actor, forced=bool(problems),
           reason=change.reason or None)
    sync.bump(session, "deployments")
    return deployment_out(session, row)


def rollback(*, session: Session, name: str, actor: str, reason: str | None = None
             ) -> DeploymentOut:
    """Restore the routing in force before the most recent change."""
    row = get_deployment(session=session, name=name)
    last = session.scalar(select(DeploymentEvent).where(
        DeploymentEvent.deployment_id == row.id, DeploymentEvent.before.is_not(None))
        .order_by(DeploymentEvent.id.desc()).limit(1))
    if last is None or last.before is None:
        raise Conflict(f"deployment {name!r} has no earlier state to roll back to")
    before = _routing(row)
    previous = last.before
    row.champion_version_id = previous["champion_version_id"]
    row.canary_version_id = previous["canary_version_id"]
    row.canary_share = previous["canary_share"]
    row.shadow_version_ids = list(previous["shadow_version_ids"])
    row.mode = previous["mode"]
    row.updated_at = utcnow()
    session.flush()
    _event(session, row, "rollback", before, actor, reason=reason)
    if row.environment != "dev":  # no approval was asked: flag it for after-the-fact review
        from steward.approvals.service import flag  # late: approvals build on deployments

        flag(session, kind="emergency_rollback", target=f"deployment:{name}",
             environment=row.environment, reason=reason)
    sync.bump(session, "deployments")
    return deployment_out(session, row)


def delete_deployment(*, session: Session, name: str) -> None:
    """Remove an endpoint."""
    row = get_deployment(session=session, name=name)
    audit.record(session, "deployment.delete", f"deployment:{name}",
                 before={"environment": row.environment, **_routing(row)})
    session.delete(row)
    sync.bump(session, "deployments")


def get_deployment(*, session: Session, name: str) -> Deployment:
    """The deployment row or `NotFound`."""
    row = session.scalar(select(Deployment).where(Deployment.name == name))
    if row is None:
        raise NotFound(f"deployment {name!r} not found", field="deployment")
    return row


def list_deployments(*, session: Session) -> list[DeploymentOut]:
    """Every deployment by name."""
    return [deployment_out(session, d)
            for d in session.scalars(select(Deployment).order_by(Deployment.name))]


def events(*, session: Session, name: str) -> list[EventOut]:
    """A deployment's routing history, newest first."""
    row = get_deployment(session=session, name=name)
    rows = session.scalars(select(DeploymentEvent).where(DeploymentEvent.deployment_id == row.id)
                           .order_by(DeploymentEvent.id.desc())).all()
    return [EventOut.model_validate(e, from_attributes=True) for e in rows]


def deployments_using(*, session: Session, version_id: int) -> list[str]:
    """Names of deployments routing any traffic (or shadows, or fallback) to a version."""
    names = []
    for d in session.scalars(select(Deployment)):
        ids = {d.champion_version_id, d.canary_version_id, d.fallback_version_id,
               *d.shadow_version_ids}
        if version_id in ids:
            names.append(d.name)
    return names


def deployment_out(session: Session, row: Deployment) -> DeploymentOut:
    """Response form, with versions as `model:version`."""
    def label(version_id: int | None) -> str | None:
        if version_id is None:
            return None
        v = session.get_one(ModelVersion, version_id)
        return f"{v.model.name}:{v.version}"

    return DeploymentOut(
        name=row.name, environment=row.environment, description=row.description, mode=row.mode,
        champion=label(row.champion_version_id) or "", canary=label(row.canary_version_id),
        canary_share=row.canary_share,
        shadows=[label(v) or "" for v in row.shadow_version_ids], routing_key=row.routing_key,
        fallback=label(row.fallback_version_id), fallback_default=row.fallback_default,
        policy=row.policy, created_by=row.created_by, created_at=row.created_at,
        updated_at=row.updated_at)


def _resolve(session: Session, ref: VersionRef, champion: ModelVersion) -> ModelVersion:
    return registry.get_version(session=session, name=ref.model or champion.model.name,
                                ref=ref.version)


def _compat(current: ModelVersion, new: ModelVersion) -> list[str]:
    if new.id == current.id:
        return []
    return breaking_changes(Contract.model_validate(current.contract),
                            Contract.model_validate(new.contract))


# Versions may serve answers in staging/production only once promoted there by approval (G1).
_SERVABLE = {"staging": ("staging", "production"), "production": ("production",)}


def _check_promoted(environment: str, version: ModelVersion) -> None:
    allowed = _SERVABLE.get(environment)
    if allowed is not None and version.status not in allowed:
        raise Conflict(f"{version.model.name}:{version.version} is {version.status}; serving it "
                       f"in {environment} needs an approved promotion (steward approvals "
                       "request)", field="version")


def _check_fallback(champion: ModelVersion, fallback: ModelVersion) -> None:
    if fallback.task != champion.task:
        raise InvalidInput(f"fallback is a {fallback.task} model but the champion is a "
                           f"{champion.task} model", field="fallback")


def _routing(row: Deployment) -> dict[str, Any]:
    return {"champion_version_id": row.champion_version_id,
            "canary_version_id": row.canary_version_id, "canary_share": row.canary_share,
            "shadow_version_ids": list(row.shadow_version_ids), "mode": row.mode}


def _event(session: Session, row: Deployment, action: str, before: dict[str, Any] | None,
           actor: str, *, forced: bool = False, reason: str | None = None) -> None:
    session.add(DeploymentEvent(deployment_id=row.id, action=action, before=before,
                                after=_routing(row), forced=forced, reason=reason, actor=actor,
                                at=utcnow()))
    audit.record(session, f"deployment.{action}", f"deployment:{row.name}", before=before,
                 after={"environment": row.environment, **_routing(row), "forced": forced,
                        "reason": reason})

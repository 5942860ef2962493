"""Immutable view of every deployment, loaded once per change for the gateway's hot path.

The gateway never touches the ORM per request: it holds a `dict[str, DeploymentView]`
rebuilt whenever the `deployments` (or `aliases`) revision moves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.deployments.policy import Policy
from steward.deployments.tables import Deployment
from steward.registry.tables import ModelVersion


@dataclass(frozen=True)
class RouteTarget:
    """One servable model version."""

    version_id: int
    model: str
    version: int
    artifact_digest: str
    artifact_format: str
    trusted: bool
    task: str
    contract: dict[str, Any]
    profile: dict[str, Any]

    @cached_property
    def serving_key(self) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        """(artifact digest, feature order, class names): what a loaded runtime depends on."""
        names = tuple(str(f["name"]) for f in self.contract.get("features", []))
        classes: tuple[str, ...] = ()
        for out in self.contract.get("outputs", []) or []:
            if out.get("classes"):
                classes = tuple(map(str, out["classes"]))
                break
        return self.artifact_digest, names, classes

    @cached_property
    def label(self) -> str:
        """`model:version`, as logged and returned to callers."""
        return f"{self.model}:{self.version}"


@dataclass(frozen=True)
class DeploymentView:
    """Everything the gateway needs to route, validate and log one deployment's requests."""

    name: str
    environment: str
    mode: str  # "canary" | "ab"
    champion: RouteTarget
    canary: RouteTarget | None
    canary_share: float
    shadows: tuple[RouteTarget, ...]
    routing_key: str | None  # input field or header carrying the sticky key
    fallback: RouteTarget | None
    fallback_default: dict[str, Any] | None
    policy: Policy
    allowed_purposes: frozenset[str] = field(default_factory=frozenset)
    pii_features: frozenset[str] = field(default_factory=frozenset)


def target_of(row: ModelVersion) -> RouteTarget:
    """RouteTarget from a version row."""
    return RouteTarget(version_id=row.id, model=row.model.name, version=row.version,
                       artifact_digest=row.artifact_digest, artifact_format=row.artifact_format,
                       trusted=row.trusted_pickle, task=row.task, contract=row.contract,
                       profile=row.profile)


def load_views(session: Session) -> dict[str, DeploymentView]:
    """Every deployment as an immutable view (a handful of queries, run on change only)."""
    deployments = session.scalars(select(Deployment)).all()
    ids = {d.champion_version_id for d in deployments}
    for d in deployments:
        ids.update(v for v in (d.canary_version_id, d.fallback_version_id) if v is not None)
        ids.update(d.shadow_version_ids)
    versions = {v.id: v for v in session.scalars(
        select(ModelVersion).where(ModelVersion.id.in_(ids)))} if ids else {}
    views = {}
    for d in deployments:
        champion = versions[d.champion_version_id]
        pii = frozenset(f["name"] for f in champion.contract.get("features", []) if f.get("pii"))
        views[d.name] = DeploymentView(
            name=d.name, environment=d.environment, mode=d.mode,
            champion=target_of(champion),
            canary=target_of(versions[d.canary_version_id]) if d.canary_version_id else None,
            canary_share=d.canary_share,
            shadows=tuple(target_of(versions[v]) for v in d.shadow_version_ids),
            routing_key=d.routing_key,
            fallback=target_of(versions[d.fallback_version_id]) if d.fallback_version_id else None,
            fallback_default=d.fallback_default, policy=Policy.model_validate(d.policy),
            allowed_purposes=frozenset(champion.model.allowed_purposes), pii_features=pii)
    return views

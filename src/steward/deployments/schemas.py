"""Request and response models of deployments."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from steward.deployments.policy import Policy
from steward.registry.schemas import check_name

Environment = Literal["dev", "staging", "production"]


class VersionRef(BaseModel):
    """A model version by number, alias or `latest`; model defaults to the champion's."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = None
    version: int | str


class DeploymentCreate(BaseModel):
    """A new endpoint serving one champion version."""

    model_config = ConfigDict(extra="forbid")

    name: str
    environment: Environment = "dev"
    model: str
    version: int | str = "latest"
    description: str = ""
    routing_key: str | None = Field(default=None, description="Header or input field for "
                                    "sticky routing; default: the x-routing-key header.")
    policy: Policy = Field(default_factory=Policy)
    fallback: VersionRef | None = None
    fallback_default: dict[str, Any] | None = None

    _name = field_validator("name")(classmethod(lambda cls, v: check_name(v)))


class RoutingChange(BaseModel):
    """A change of what serves: champion, canary and its share, shadows, mode."""

    model_config = ConfigDict(extra="forbid")

    champion: VersionRef | None = None
    canary: VersionRef | None = None
    remove_canary: bool = False
    canary_share: float | None = Field(default=None, ge=0.0, le=1.0)
    shadows: list[VersionRef] | None = None
    mode: Literal["canary", "ab"] | None = None
    fallback: VersionRef | None = None
    fallback_default: dict[str, Any] | None = None
    policy: Policy | None = None
    force: bool = Field(default=False, description="Accept a breaking contract change.")
    reason: str | None = None


class DeploymentOut(BaseModel):
    """A deployment with what it routes to."""

    name: str
    environment: str
    description: str
    mode: str
    champion: str
    canary: str | None
    canary_share: float
    shadows: list[str]
    routing_key: str | None
    fallback: str | None
    fallback_default: dict[str, Any] | None
    policy: dict[str, Any]
    created_by: str
    created_at: datetime
    updated_at: datetime


class EventOut(BaseModel):
    """One routing change in a deployment's history."""

    action: str
    before: dict[str, Any] | None
    after: dict[str, Any]
    forced: bool
    reason: str | None
    actor: str
    at: datetime

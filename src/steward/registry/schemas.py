"""Request and response models of the registry."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")


def check_name(value: str) -> str:
    """Names become URL segments and file names: lowercase, digits, `.`, `_`, `-` only."""
    if not NAME_RE.match(value) or ".." in value:
        raise ValueError("must match [a-z0-9][a-z0-9._-]* (max 100 chars, no '..')")
    return value


class RiskTier(StrEnum):
    """EU-AI-Act-style risk tiers that drive approval quorum."""

    minimal = "minimal"
    limited = "limited"
    high = "high"


class VersionStatus(StrEnum):
    """Lifecycle status of a version."""

    registered = "registered"
    staging = "staging"
    production = "production"
    retired = "retired"
    archived = "archived"


class ModelCreate(BaseModel):
    """Metadata of a new registered model (R2)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    owner: str = Field(min_length=1, max_length=200)
    team: str = ""
    description: str = ""
    use_case: str = ""
    kpi: str = ""
    risk_tier: RiskTier = RiskTier.minimal
    allowed_purposes: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    runbook_url: str | None = None
    allow_download: bool = True

    _name = field_validator("name")(classmethod(lambda cls, v: check_name(v)))


class ModelOut(BaseModel):
    """A registered model as returned by the API."""

    name: str
    owner: str
    team: str
    description: str
    use_case: str
    kpi: str
    risk_tier: RiskTier
    allowed_purposes: list[str]
    tags: list[str]
    runbook_url: str | None
    allow_download: bool
    created_by: str
    created_at: datetime
    latest_version: int | None = None
    aliases: dict[str, int] = Field(default_factory=dict)


class Lineage(BaseModel):
    """Where a version came from (R3); data fingerprint and schema are computed by Steward."""

    model_config = ConfigDict(extra="forbid")

    data_uri: str | None = None
    code_ref: str | None = None
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, float] = Field(default_factory=dict)
    slice_metrics: dict[str, dict[str, float]] = Field(default_factory=dict)


class VersionCreate(BaseModel):
    """Metadata sent with a new version's artifact and reference data."""

    model_config = ConfigDict(extra="forbid")

    lineage: Lineage = Field(default_factory=Lineage)
    contract_yaml: str | None = None
    target: str | None = Field(default=None, description="Reference column holding the label.")
    exclude: list[str] = Field(default_factory=list)
    pii: list[str] = Field(default_factory=list)
    protected: list[str] = Field(default_factory=list)
    classes: list[str] | None = None
    trust_pickle: bool = False
    quality_override: str | None = Field(
        default=None, description="Reason to register despite a failed data quality gate.")
    bias_assessment: str | None = None


class VersionOut(BaseModel):
    """A version with its lineage, contract, profile and data quality."""

    model: str
    version: int
    status: VersionStatus
    task: str
    artifact_digest: str
    artifact_format: str
    artifact_size: int
    artifact_filename: str
    trusted_pickle: bool
    contract: dict[str, Any]
    profile: dict[str, Any]
    lineage: dict[str, Any]
    quality: dict[str, Any] | None
    quality_override: str | None
    bias_assessment: str | None
    cold_start_ms: float | None
    memory_bytes: int | None
    created_by: str
    created_at: datetime
    aliases: list[str] = Field(default_factory=list)


class AliasSet(BaseModel):
    """Point an alias at a version."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1)


class StatusSet(BaseModel):
    """Move a version through its lifecycle."""

    model_config = ConfigDict(extra="forbid")

    status: VersionStatus

"""Request and response models of approvals and reviews."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from steward.approvals.gates import parse_threshold
from steward.registry.schemas import check_name


class ApprovalCreate(BaseModel):
    """Ask to move a version to staging or production (and repoint a deployment)."""

    model_config = ConfigDict(extra="forbid")

    model: str
    version: int = Field(ge=1)
    target: Literal["staging", "production"]
    deployment: str | None = None
    thresholds: dict[str, str] = Field(default_factory=dict,
                                       description='Metric gates, e.g. {"auc": ">=0.9"}.')
    reason: str = Field(default="", max_length=2000)

    _names = field_validator("model")(classmethod(lambda cls, v: check_name(v)))

    @field_validator("deployment")
    @classmethod
    def _deployment_name(cls, value: str | None) -> str | None:
        return None if value is None else check_name(value)

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, value: dict[str, str]) -> dict[str, str]:
        for expression in value.values():
            parse_threshold(expression)
        return value


class Decision(BaseModel):
    """An approval (reason optional) or a rejection (reason required)."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=2000)


class Rejection(BaseModel):
    """A rejection always says why."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


class GateOut(BaseModel):
    """One evidence gate and whether it passes now."""

    name: str
    passed: bool
    detail: str


class VoteOut(BaseModel):
    """One recorded decision."""

    approver: str
    role: str
    decision: str
    reason: str | None
    at: datetime


class ApprovalOut(BaseModel):
    """A request with its quorum, votes and evidence."""

    id: int
    model: str
    version: int
    target: str
    deployment: str | None
    risk_tier: str
    thresholds: dict[str, str]
    reason: str
    status: str
    requested_by: str
    required_approvals: int
    compliance_required: bool
    votes: list[VoteOut]
    gates: list[GateOut]
    impact_digest: str | None
    impact_filename: str | None
    decision_reason: str | None
    created_at: datetime
    decided_at: datetime | None


class FlagOut(BaseModel):
    """An action to review after the fact."""

    id: int
    kind: str
    target: str
    environment: str | None
    actor: str
    reason: str | None
    created_at: datetime
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_note: str | None


class FlagReview(BaseModel):
    """Close a flag with a note."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=2000)

"""Request and response models for keys."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from steward.security.principal import ENVIRONMENTS, Role, validate_scope


class KeyCreate(BaseModel):
    """A request for a new API key."""

    name: str = Field(min_length=1, max_length=200)
    role: Role
    scopes: list[str] = Field(default_factory=list)
    environments: list[str] = Field(default_factory=lambda: list(ENVIRONMENTS))
    purposes: list[str] = Field(default_factory=list)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)
    rate_limit_per_minute: int | None = Field(default=None, ge=1)
    daily_budget: int | None = Field(default=None, ge=1)

    @field_validator("scopes")
    @classmethod
    def _known_scopes(cls, scopes: list[str]) -> list[str]:
        for scope in scopes:
            if (problem := validate_scope(scope)) is not None:
                raise ValueError(problem)
        return scopes

    @field_validator("environments")
    @classmethod
    def _known_environments(cls, envs: list[str]) -> list[str]:
        unknown = sorted(set(envs) - set(ENVIRONMENTS))
        if unknown or not envs:
            raise ValueError(f"environments must be among {list(ENVIRONMENTS)}, got {envs}")
        return envs


class KeyOut(BaseModel):
    """A key as listed; never includes the secret."""

    id: str
    name: str
    role: Role
    scopes: list[str]
    environments: list[str]
    purposes: list[str]
    created_by: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    rate_limit_per_minute: int | None = None
    daily_budget: int | None = None


class KeyCreated(KeyOut):
    """A key just created: the only time the full key is returned."""

    key: str

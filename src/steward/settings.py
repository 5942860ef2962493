"""The one settings object (env prefix `STEWARD_`), validated at start-up."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything configurable about a Steward process."""

    model_config = SettingsConfigDict(env_prefix="STEWARD_", extra="ignore")

    home: Path = Field(default=Path(".steward"), description="Data folder (db, artifacts, keys).")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; SQLite in home.")
    artifact_url: str | None = Field(default=None, description="Artifact store URL; local folder.")
    master_key: SecretStr | None = Field(default=None, description="Base64 AES-256 key.")
    host: str = "127.0.0.1"
    port: int = 8000
    max_upload_mb: int = Field(default=512, ge=1)
    # Data quality gate at registration (O4).
    min_completeness: float = Field(default=0.95, ge=0.0, le=1.0)
    min_type_consistency: float = Field(default=0.99, ge=0.0, le=1.0)
    max_duplicate_rate: float = Field(default=0.05, ge=0.0, le=1.0)
    # Cross-worker state: how often each worker checks for changes made elsewhere.
    sync_interval_s: float = Field(default=0.2, gt=0.0, le=1.0)
    log_durability: Literal["sync", "async"] = "sync"
    # "all": one process does everything (tests, `uvicorn --factory steward.server:create`).
    # `steward serve` runs workers as "serve" (requests only) beside one "background"
    # process (log shipping, monitoring, alerts, webhooks), so jobs never steal the GIL.
    role: Literal["all", "serve", "background"] = "all"
    log_level: str = "INFO"
    # OAuth 2.0 / OIDC bearer tokens from an external IdP (G3); off unless an issuer is set.
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks: str | None = Field(default=None, description="JWKS file path or https URL.")
    oidc_public_key: str | None = Field(default=None, description="PEM text or PEM file path.")
    oidc_role_claim: str = "roles"
    oidc_scope_claim: str = "scope"
    oidc_env_claim: str = "steward_envs"
    oidc_purpose_claim: str = "steward_purposes"
    oidc_name_claim: str = "sub"
    oidc_leeway_s: float = Field(default=30.0, ge=0.0, le=300.0)
    # Audit trail (G4): how often the head of the hash chain is signed.
    audit_digest_interval_s: float = Field(default=300.0, gt=0.0)
    audit_queue_max: int = Field(default=10_000, ge=100)
    webhook_max_attempts: int = Field(default=6, ge=1, le=20)
    # Monitoring (M1-M9): aggregation/alert loop, leader lease, out-of-order commit grace.
    monitor_interval_s: float = Field(default=10.0, gt=0.0)
    monitor_alert_interval_s: float = Field(default=60.0, ge=0.0)
    monitor_lease_s: float = Field(default=60.0, gt=0.0)
    monitor_grace_s: float = Field(default=5.0, ge=0.0)

    @model_validator(mode="after")
    def _oidc_complete(self) -> Settings:
        if self.oidc_issuer and not (self.oidc_audience and (self.oidc_jwks
                                                             or self.oidc_public_key)):
            raise ValueError("STEWARD_OIDC_ISSUER needs STEWARD_OIDC_AUDIENCE and "
                             "STEWARD_OIDC_JWKS or STEWARD_OIDC_PUBLIC_KEY")
        return self

    @field_validator("home")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @cached_property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite inside the data folder."""
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://") or url.startswith("postgres://"):
                url = "postgresql+psycopg://" + url.split("://", 1)[1]
            return url
        return f"sqlite:///{self.home / 'steward.db'}"

    @cached_property
    def resolved_artifact_url(self) -> str:
        """The artifact store URL, defaulting to a folder inside the data folder."""
        return self.artifact_url or f"file://{self.home / 'artifacts'}"

    @property
    def master_key_file(self) -> Path:
        """Where `steward init` keeps the generated master key when none is given by env."""
        return self.home / "keys" / "master.key"

    def __repr__(self) -> str:
        return f"Settings(home={str(self.home)!r}, database={self.redacted_database_url!r})"

    @property
    def redacted_database_url(self) -> str:
        """Database URL with any password hidden, safe for logs."""
        from sqlalchemy.engine import make_url

        return make_url(self.resolved_database_url).render_as_string(hide_password=True)

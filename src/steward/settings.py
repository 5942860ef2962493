"""The one settings object (env prefix `STEWARD_`), validated at start-up."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
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
    log_level: str = "INFO"

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

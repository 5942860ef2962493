"""Registry tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from steward.db import Base, utcnow


class RegisteredModel(Base):
    """A named model with its ownership and governance metadata (R2)."""

    __tablename__ = "models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(200))
    team: Mapped[str] = mapped_column(String(200), default="")
    use_case: Mapped[str] = mapped_column(Text, default="")
    kpi: Mapped[str] = mapped_column(String(200), default="")
    risk_tier: Mapped[str] = mapped_column(String(16), default="minimal")
    allowed_purposes: Mapped[list[Any]] = mapped_column(default=list)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    runbook_url: Mapped[str | None] = mapped_column(String(500))
    allow_download: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[ModelVersion]] = relationship(
        back_populates="model", order_by="ModelVersion.version")
    aliases: Mapped[list[Alias]] = relationship(back_populates="model")


class ModelVersion(Base):
    """An immutable version: artifact, contract, lineage and reference profile (R1, R3, R5)."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("model_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="registered")
    artifact_digest: Mapped[str] = mapped_column(String(64), index=True)
    artifact_format: Mapped[str] = mapped_column(String(16))
    artifact_size: Mapped[int] = mapped_column(BigInteger)
    artifact_filename: Mapped[str] = mapped_column(String(255))
    trusted_pickle: Mapped[bool] = mapped_column(Boolean, default=False)
    task: Mapped[str] = mapped_column(String(16))
    contract: Mapped[dict[str, Any]] = mapped_column()
    profile: Mapped[dict[str, Any]] = mapped_column()
    lineage: Mapped[dict[str, Any]] = mapped_column()
    quality: Mapped[dict[str, Any] | None] = mapped_column()
    quality_override: Mapped[str | None] = mapped_column(Text)
    bias_assessment: Mapped[str | None] = mapped_column(Text)
    cold_start_ms: Mapped[float | None] = mapped_column(Float)
    memory_bytes: Mapped[int | None] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    model: Mapped[RegisteredModel] = relationship(back_populates="versions")


class Alias(Base):
    """A movable name (champion, challenger, ...) pointing at one version; rollback re-points."""

    __tablename__ = "model_aliases"
    __table_args__ = (UniqueConstraint("model_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="RESTRICT"))
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    model: Mapped[RegisteredModel] = relationship(back_populates="aliases")
    version: Mapped[ModelVersion] = relationship()

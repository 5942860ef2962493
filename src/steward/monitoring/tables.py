"""Monitoring tables: per-minute aggregates, the fold watermark and lease, config, alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from steward.db import Base, utcnow


class MonitorBucket(Base):
    """Aggregates of one deployment x version x route x minute (layout in ``aggregates``)."""

    __tablename__ = "monitor_buckets"
    __table_args__ = (
        UniqueConstraint("deployment", "version_id", "route", "start"),
        Index("ix_monitor_buckets_deployment_start", "deployment", "start"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    deployment: Mapped[str] = mapped_column(String(100))
    version_id: Mapped[int] = mapped_column(Integer)
    route: Mapped[str] = mapped_column(String(16))
    start: Mapped[datetime] = mapped_column()
    counts: Mapped[bytes] = mapped_column(LargeBinary)
    sums: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class MonitorState(Base):
    """Small named state rows: the fold watermark, the leader lease, the latest gauges."""

    __tablename__ = "monitor_state"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)
    holder: Mapped[str | None] = mapped_column(String(200))
    expires_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class MonitorConfig(Base):
    """Per-deployment drift thresholds and methods, drift share, silent-failure limits."""

    __tablename__ = "monitor_configs"

    deployment: Mapped[str] = mapped_column(String(100), primary_key=True)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertRule(Base):
    """A metric condition on a deployment (optionally one version or feature) over a window."""

    __tablename__ = "alert_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    deployment: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[str | None] = mapped_column(String(120))
    feature: Mapped[str | None] = mapped_column(String(200))
    metric: Mapped[str] = mapped_column(String(64))
    comparator: Mapped[str] = mapped_column(String(4))
    threshold: Mapped[float] = mapped_column(Float)
    window: Mapped[str] = mapped_column(String(16), default="1h")
    retrain: Mapped[bool] = mapped_column(Boolean, default=False)
    auto_resolve: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Alert(Base):
    """One firing of a rule for one scope; ``open_key`` is unique while open (dedup)."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"),
                                         index=True)
    open_key: Mapped[str | None] = mapped_column(String(400), unique=True)
    deployment: Mapped[str] = mapped_column(String(100), index=True)
    scope: Mapped[dict[str, Any]] = mapped_column(default=dict)
    metric: Mapped[str] = mapped_column(String(64))
    value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    retrain: Mapped[bool] = mapped_column(Boolean, default=False)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)

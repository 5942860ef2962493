"""Prediction log and feedback tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from steward.db import Base, utcnow


class PredictionRecord(Base):
    """One served request on one route (shadows get their own rows with the same request id)."""

    __tablename__ = "predictions"
    __table_args__ = (
        UniqueConstraint("request_id", "route", "version_id"),  # replay is idempotent
        Index("ix_predictions_deployment_ts", "deployment", "ts"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    # Looked up through the unique (request_id, route, version_id) index: no index of its own.
    request_id: Mapped[str] = mapped_column(String(64))
    ts: Mapped[datetime] = mapped_column()
    deployment: Mapped[str] = mapped_column(String(100))
    environment: Mapped[str] = mapped_column(String(16))
    model: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    version_id: Mapped[int] = mapped_column(Integer)
    route: Mapped[str] = mapped_column(String(16))
    rows: Mapped[int] = mapped_column(Integer, default=1)
    inputs: Mapped[dict[str, Any]] = mapped_column()
    outputs: Mapped[dict[str, Any] | None] = mapped_column()
    confidence: Mapped[float | None] = mapped_column(Float)
    latency_ms: Mapped[float] = mapped_column(Float)
    ood: Mapped[list[Any]] = mapped_column(default=list)
    fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    caller: Mapped[str | None] = mapped_column(String(64))
    purpose: Mapped[str | None] = mapped_column(String(100))


class Feedback(Base):
    """Ground truth or business outcome for a served request (joined by request id)."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("request_id", "row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(String(64), index=True)
    row: Mapped[int] = mapped_column(Integer, default=0)
    deployment: Mapped[str | None] = mapped_column(String(100), index=True)
    label: Mapped[Any | None] = mapped_column(String(200))
    value: Mapped[float | None] = mapped_column(Float)
    outcome: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

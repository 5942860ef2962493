"""Approval requests, their votes, and flags for after-the-fact review."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from steward.db import Base, utcnow


class ApprovalRequest(Base):
    """A request to move one version to staging or production (optionally a deployment)."""

    __tablename__ = "approval_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int] = mapped_column(Integer)
    target: Mapped[str] = mapped_column(String(16))
    deployment: Mapped[str | None] = mapped_column(String(100))
    thresholds: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_by_id: Mapped[str | None] = mapped_column(String(200))
    impact_digest: Mapped[str | None] = mapped_column(String(64))
    impact_filename: Mapped[str | None] = mapped_column(String(255))
    impact_size: Mapped[int | None] = mapped_column(BigInteger)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column()

    votes: Mapped[list[ApprovalVote]] = relationship(order_by="ApprovalVote.id",
                                                     cascade="all, delete-orphan")


class ApprovalVote(Base):
    """One person's decision; unique per request and person, so replays are refused."""

    __tablename__ = "approval_votes"
    __table_args__ = (UniqueConstraint("request_id", "approver"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("approval_requests.id", ondelete="CASCADE"), index=True)
    approver: Mapped[str] = mapped_column(String(200))
    approver_id: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    decision: Mapped[str] = mapped_column(String(16))  # approve | reject
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ReviewFlag(Base):
    """Something done without approval (e.g. an emergency rollback), to review afterwards."""

    __tablename__ = "review_flags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(300))
    environment: Mapped[str | None] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[datetime | None] = mapped_column()
    review_note: Mapped[str | None] = mapped_column(Text)

"""Audit trail tables: append-only entries and signed digests of the chain head."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from steward.db import Base, utcnow


class AuditEntry(Base):
    """One recorded action; `seq` is unique so concurrent writers can never fork the chain."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    actor_id: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(300), index=True)
    outcome: Mapped[str] = mapped_column(String(16))  # ok | denied | rejected
    before: Mapped[Any | None] = mapped_column(JSON)
    after: Mapped[Any | None] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(64), index=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditDigest(Base):
    """An Ed25519 signature over the chain head at one moment (detects truncation/rewrite)."""

    __tablename__ = "audit_digests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[str] = mapped_column(String(40))  # ISO text, exactly as signed
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(Text)

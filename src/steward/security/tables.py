"""API keys, stored only as hashes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from steward.db import Base, utcnow


class ApiKey(Base):
    """One API key; the secret part is kept only as its SHA-256."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # public key id
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    scopes: Mapped[list[Any]] = mapped_column(default=list)
    environments: Mapped[list[Any]] = mapped_column(default=list)
    purposes: Mapped[list[Any]] = mapped_column(default=list)
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    rate_limit_per_minute: Mapped[int | None] = mapped_column()
    daily_budget: Mapped[int | None] = mapped_column()

    def __repr__(self) -> str:  # never show the hash
        return f"ApiKey(id={self.id!r}, name={self.name!r}, role={self.role!r})"


class UsageCounter(Base):
    """Fixed-window request count of one key (kind `m` = minute, `d` = UTC day) (G7)."""

    __tablename__ = "usage_counters"

    key_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(1), primary_key=True)
    period: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)

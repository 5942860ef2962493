"""Revision counters per topic."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from steward.db import Base, utcnow


class StateRevision(Base):
    """Monotonic counter bumped whenever shared serving state of one topic changes."""

    __tablename__ = "state_revisions"

    topic: Mapped[str] = mapped_column(String(64), primary_key=True)
    revision: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

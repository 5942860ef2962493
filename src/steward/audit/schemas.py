"""Response models of the audit trail."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class EntryOut(BaseModel):
    """One chained entry."""

    seq: int
    at: str
    actor: str
    actor_id: str | None
    action: str
    target: str
    outcome: str
    before: Any
    after: Any
    request_id: str | None
    prev_hash: str
    hash: str


class DigestOut(BaseModel):
    """A signed head."""

    seq: int
    hash: str
    at: str
    key_id: str
    signature: str


class VerifyOut(BaseModel):
    """Result of checking the chain; `first_bad` names the first failing entry."""

    ok: bool
    entries: int
    digests: int
    first_bad: int | None
    problem: str | None

"""Audit routes: list, export (JSONL), verify, seal, public key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from steward.api.deps import SessionDep, StateDep, require
from steward.audit import service
from steward.audit.schemas import DigestOut, EntryOut, VerifyOut
from steward.db import transaction
from steward.security.principal import Principal

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
Auditor = Annotated[Principal, Depends(require("audit:read"))]


@router.get("")
def list_entries(session: SessionDep, who: Auditor, action: str | None = None,
                 target: str | None = None, actor: str | None = None,
                 outcome: str | None = None, before_seq: int | None = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[EntryOut]:
    """Newest entries first, filtered."""
    rows = service.list_entries(session=session, action=action, target=target, actor=actor,
                                outcome=outcome, limit=limit, before_seq=before_seq)
    return [EntryOut.model_validate(r) for r in rows]


@router.get("/export")
def export(state: StateDep, who: Auditor, since_seq: int = 0) -> StreamingResponse:
    """The whole chain (or after `since_seq`) as JSON lines, with hashes for offline checks."""
    with transaction(state.factory) as session:
        service.record(session, "audit.export", "audit", after={"since_seq": since_seq})

    def lines() -> Iterator[bytes]:
        with state.factory() as session:
            for entry in service.iter_entries(session, since_seq=since_seq):
                yield json.dumps(entry, sort_keys=True).encode() + b"\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@router.get("/verify")
def verify(state: StateDep, who: Auditor) -> VerifyOut:
    """Check every link, hash and signed digest; names the first bad entry."""
    verdict = state.audit.verify()
    return VerifyOut(ok=verdict.ok, entries=verdict.entries, digests=verdict.digests,
                     first_bad=verdict.first_bad, problem=verdict.problem)


@router.post("/digests")
def seal(state: StateDep, who: Auditor) -> DigestOut | None:
    """Sign the current head now (also done periodically)."""
    digest: dict[str, Any] | None = state.audit.seal()
    return DigestOut.model_validate(digest) if digest else None


@router.get("/public-key")
def public_key(state: StateDep, who: Auditor) -> dict[str, str]:
    """The Ed25519 key verifying digests, for offline checks of an export."""
    return {"key_id": state.audit.key_id, "public_key": state.audit.public_key_b64}

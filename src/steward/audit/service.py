"""Append to the chain inside the caller's transaction; queue denials off the hot path."""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from steward.audit import chain, context
from steward.audit.tables import AuditDigest, AuditEntry
from steward.db import utcnow
from steward.periodic import Periodic

log = logging.getLogger(__name__)

# Any constant works; every writer of the chain takes the same one.
_PG_LOCK = 0x5354_4557_4155_4454 & 0x7FFF_FFFF_FFFF_FFFF


def lock_head(session: Session) -> None:
    """Serialize chain writers until this transaction ends.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: every transaction already began
    with BEGIN IMMEDIATE (steward.db), which holds the database write lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})


def record(session: Session, action: str, target: str, *, before: Any = None,
           after: Any = None, outcome: str = "ok", actor: str | None = None,
           actor_id: str | None = None, request_id: str | None = None,
           at: datetime | None = None) -> int:
    """Append one entry in the caller's transaction; return its seq."""
    ctx = context.current()
    if actor is None:
        principal = ctx.principal if ctx else None
        actor = principal.name if principal else "system"
        actor_id = actor_id or (principal.key_id if principal else None)
    lock_head(session)
    head = session.execute(select(AuditEntry.seq, AuditEntry.hash)
                           .order_by(AuditEntry.seq.desc()).limit(1)).first()
    seq, prev = (head[0] + 1, head[1]) if head else (1, chain.GENESIS)
    when = (at or utcnow()).astimezone(UTC)
    fields = {"seq": seq, "at": when.isoformat(), "actor": actor[:200], "actor_id": actor_id,
              "action": action, "target": target[:300], "outcome": outcome,
              "before": chain.jsonable(before), "after": chain.jsonable(after),
              "request_id": request_id or (ctx.request_id if ctx else None),
              "prev_hash": prev}
    row = AuditEntry(**{**fields, "at": when}, hash=chain.entry_hash(fields))
    session.add(row)
    session.flush()
    return seq


def entry_dict(row: AuditEntry) -> dict[str, Any]:
    """An entry as exported and hashed."""
    return {"seq": row.seq, "at": row.at.astimezone(UTC).isoformat(), "actor": row.actor,
            "actor_id": row.actor_id, "action": row.action, "target": row.target,
            "outcome": row.outcome, "before": row.before, "after": row.after,
            "request_id": row.request_id, "prev_hash": row.prev_hash, "hash": row.hash}


def iter_entries(session: Session, *, since_seq: int = 0) -> Iterator[dict[str, Any]]:
    """Every entry after `since_seq`, in chain order, streamed in chunks."""
    stmt = select(AuditEntry).where(AuditEntry.seq > since_seq).order_by(AuditEntry.seq)
    for row in session.scalars(stmt.execution_options(yield_per=1000)):
        yield entry_dict(row)


def list_entries(session: Session, *, action: str | None = None, target: str | None = None,
                 actor: str | None = None, outcome: str | None = None, limit: int = 100,
                 before_seq: int | None = None) -> list[dict[str, Any]]:
    """Newest entries first, filtered."""
    stmt = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if target:
        stmt = stmt.where(AuditEntry.target == target)
    if actor:
        stmt = stmt.where(AuditEntry.actor == actor)
    if outcome:
        stmt = stmt.where(AuditEntry.outcome == outcome)
    if before_seq:
        stmt = stmt.where(AuditEntry.seq < before_seq)
    return [entry_dict(r) for r in session.scalars(stmt)]


@dataclass(frozen=True)
class _Denial:
    action: str
    target: str
    reason: str
    actor: str
    actor_id: str | None
    request_id: str | None
    outcome: str
    at: datetime


class AuditLog:
    """Process-wide audit services: the signing key, the denial queue, periodic digests."""

    def __init__(self, factory: sessionmaker[Session], seed: bytes, *, max_queue: int = 10_000,
                 digest_interval_s: float = 300.0, flush_interval_s: float = 0.5) -> None:
        self._factory = factory
        self._key = Ed25519PrivateKey.from_private_bytes(seed[:32])
        self._queue: deque[_Denial] = deque()
        self._max = max_queue
        self._dropped = 0
        self._digest_interval = digest_interval_s
        self._flush_interval = flush_interval_s
        self._flush_lock = threading.Lock()
        self._waited = 0.0
        self._periodic = Periodic("steward-audit", self._flush_interval, self._tick,
                                  final=self.flush)

    def __repr__(self) -> str:
        return f"AuditLog(key_id={self.key_id})"

    @property
    def public_key(self) -> bytes:
        """Raw Ed25519 public key that verifies digests."""
        return self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def public_key_b64(self) -> str:
        """Base64 of the public key, for offline verification."""
        return base64.b64encode(self.public_key).decode()

    @property
    def key_id(self) -> str:
        """Short fingerprint of the signing key."""
        return hashlib.sha256(self.public_key).hexdigest()[:16]

    def denied(self, *, action: str, target: str, reason: str, actor: str | None = None,
               actor_id: str | None = None, request_id: str | None = None,
               outcome: str = "denied") -> None:
        """Queue a refused attempt; never blocks, never touches the DB (safe on the hot path)."""
        if len(self._queue) >= self._max:
            self._dropped += 1  # counted and recorded at the next flush
            return
        self._queue.append(_Denial(action, target[:300], reason[:500], actor or "anonymous",
                                   actor_id, request_id, outcome, utcnow()))

    def flush(self) -> int:
        """Write queued denials in one transaction; return how many."""
        with self._flush_lock:
            batch = [self._queue.popleft() for _ in range(len(self._queue))]
            dropped, self._dropped = self._dropped, 0
            if not batch and not dropped:
                return 0
            try:
                with self._factory() as session, session.begin():
                    for d in batch:
                        record(session, d.action, d.target, after={"reason": d.reason},
                               outcome=d.outcome, actor=d.actor, actor_id=d.actor_id,
                               request_id=d.request_id, at=d.at)
                    if dropped:
                        record(session, "audit.dropped", "audit", after={"count": dropped},
                               actor="system")
            except Exception:
                self._queue.extendleft(reversed(batch))
                self._dropped += dropped
                raise
            return len(batch)

    def seal(self) -> dict[str, Any] | None:
        """Sign the current head (if it moved since the last digest); return the digest."""
        with self._factory() as session, session.begin():
            head = session.execute(select(AuditEntry.seq, AuditEntry.hash)
                                   .order_by(AuditEntry.seq.desc()).limit(1)).first()
            if head is None:
                return None
            last = session.scalar(select(AuditDigest).order_by(AuditDigest.id.desc()).limit(1))
            if last is not None and last.seq == head[0]:
                return _digest_dict(last)
            at = utcnow().isoformat()
            row = AuditDigest(seq=head[0], hash=head[1], at=at, key_id=self.key_id,
                              signature=chain.sign_digest(self._key, head[0], head[1], at))
            session.add(row)
            session.flush()
            return _digest_dict(row)

    def verify(self) -> chain.Verdict:
        """Check the whole chain and every digest against this key."""
        verdict = chain.Verdict()
        with self._factory() as session:
            hashes = chain.verify_entries(iter_entries(session), verdict)
            digests = [_digest_dict(d) for d in
                       session.scalars(select(AuditDigest).order_by(AuditDigest.id))]
        chain.verify_digests(digests, hashes, self._key.public_key(), verdict)
        return verdict

    def run_once(self, *, seal: bool) -> None:
        """One background round: flush denials, maybe seal."""
        self.flush()
        if seal:
            self.seal()

    def _tick(self) -> None:
        self._waited += self._flush_interval
        seal = self._waited >= self._digest_interval
        self.run_once(seal=seal)
        if seal:
            self._waited = 0.0

    def start(self) -> None:
        """Start the background flusher."""
        self._periodic.start()

    def stop(self) -> None:
        """Stop the flusher and write what is still queued."""
        self._periodic.stop()


def _digest_dict(row: AuditDigest) -> dict[str, Any]:
    return {"seq": row.seq, "hash": row.hash, "at": row.at, "key_id": row.key_id,
            "signature": row.signature}

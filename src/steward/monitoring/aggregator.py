"""Fold new prediction-log rows into per-minute buckets, exactly once, on one leader.

Exactly once: the watermark (last folded ``predictions.id``) is read with ``FOR UPDATE``
(PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises writers anyway) and written in the
same transaction as the buckets it produced, so two folders can never fold the same rows and
a crash rolls both back. The leader lease only keeps the others idle.

Ids committed out of order (PostgreSQL): a sequence hands out ids at insert time, so a
transaction holding id 41 may commit after one holding id 42. Folding up to 42 would skip
41 forever. Each pass therefore records ``(now, max(id))`` in the watermark row and only
folds up to the largest max id observed at least ``grace_s`` seconds ago: any insert
transaction that had allocated such an id has committed by then, provided spool batches
commit within ``grace_s`` (they are single multi-row INSERTs of at most 5,000 rows). Rows
not yet folded are read raw by the window queries, so the grace costs no freshness.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import orjson
from sqlalchemy import Text, cast, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from steward.db import utcnow
from steward.monitoring.aggregates import Aggregate, Key, Layout, fold
from steward.monitoring.tables import MonitorBucket, MonitorState
from steward.predictions.tables import PredictionRecord
from steward.registry.tables import ModelVersion

WATERMARK = "aggregator.watermark"
LEASE = "aggregator.lease"
BATCH = 20_000

# What the fold reads of each prediction row. JSON columns come as text and are parsed with
# orjson (the stdlib decoder was a third of the fold's time).
FOLD_COLUMNS = (PredictionRecord.id, PredictionRecord.deployment, PredictionRecord.version_id,
                PredictionRecord.route, PredictionRecord.ts, PredictionRecord.rows,
                cast(PredictionRecord.inputs, Text).label("inputs"),
                cast(PredictionRecord.outputs, Text).label("outputs"),
                PredictionRecord.latency_ms, PredictionRecord.error, PredictionRecord.fallback,
                cast(PredictionRecord.ood, Text).label("ood"))


class Layouts:
    """Cache of per-version layouts (versions are immutable, so entries never go stale)."""

    def __init__(self) -> None:
        self._cache: dict[int, Layout | None] = {}

    def get(self, session: Session, ids: set[int]) -> dict[int, Layout]:
        """Layouts of the given version ids (unknown ids are left out)."""
        missing = [i for i in ids if i not in self._cache]
        if missing:
            rows = session.execute(select(ModelVersion.id, ModelVersion.contract,
                                          ModelVersion.profile)
                                   .where(ModelVersion.id.in_(missing))).all()
            found = {vid: Layout(contract, profile) for vid, contract, profile in rows}
            for vid in missing:
                self._cache[vid] = found.get(vid)
        return {i: lay for i in ids if (lay := self._cache[i]) is not None}


def record_dict(row: Any) -> dict[str, Any]:
    """A selected prediction row as the mapping ``aggregates.fold`` reads."""
    return {"deployment": row.deployment, "version_id": row.version_id, "route": row.route,
            "ts": row.ts, "rows": row.rows, "inputs": _json(row.inputs),
            "outputs": _json(row.outputs), "latency_ms": row.latency_ms, "error": row.error,
            "fallback": row.fallback, "ood": _json(row.ood)}


def _json(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def acquire_lease(factory: sessionmaker[Session], holder: str, ttl_s: float) -> bool:
    """Take or renew the aggregator lease; True if ``holder`` leads until it expires."""
    now = utcnow()
    until = now + timedelta(seconds=ttl_s)
    with factory() as session, session.begin():
        taken = session.execute(
            update(MonitorState).where(MonitorState.name == LEASE,
                                       (MonitorState.holder == holder)
                                       | MonitorState.holder.is_(None)
                                       | (MonitorState.expires_at < now))
            .values(holder=holder, expires_at=until, updated_at=now))
        if taken.rowcount:  # type: ignore[attr-defined]
            return True
        if session.get(MonitorState, LEASE) is not None:
            return False
    try:
        with factory() as session, session.begin():
            session.add(MonitorState(name=LEASE, value={}, holder=holder, expires_at=until,
                                     updated_at=now))
        return True
    except IntegrityError:  # another process created it first
        return False


def release_lease(factory: sessionmaker[Session], holder: str) -> None:
    """Give the lease up (on shutdown) so another worker takes over at once."""
    with factory() as session, session.begin():
        session.execute(update(MonitorState).where(MonitorState.name == LEASE,
                                                   MonitorState.holder == holder)
                        .values(holder=None, expires_at=None))


def watermark(session: Session) -> int:
    """Last folded prediction id (0 before the first fold)."""
    row = session.get(MonitorState, WATERMARK)
    return int(row.value.get("last_id", 0)) if row is not None else 0  # JSON: an int


def _ensure_state(factory: sessionmaker[Session]) -> None:
    with factory() as session:
        if session.get(MonitorState, WATERMARK) is not None:
            return
    try:
        with factory() as session, session.begin():
            session.add(MonitorState(name=WATERMARK, value={"last_id": 0, "seen": []},
                                     updated_at=utcnow()))
    except IntegrityError:  # a concurrent first fold created it
        pass


def _locked_state(session: Session) -> MonitorState:
    stmt = select(MonitorState).where(MonitorState.name == WATERMARK)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one()


def fold_pass(factory: sessionmaker[Session], layouts: Layouts, *, grace_s: float,
              batch: int = BATCH, max_batches: int | None = None) -> int:
    """Fold every settled new prediction row; returns how many records were folded."""
    _ensure_state(factory)
    total, batches = 0, 0
    while max_batches is None or batches < max_batches:
        n = _fold_batch(factory, layouts, grace_s, batch)
        total += n
        batches += 1
        if n < batch:
            return total
    return total


def _fold_batch(factory: sessionmaker[Session], layouts: Layouts, grace_s: float,
                batch: int) -> int:
    with factory() as session, session.begin():
        state = _locked_state(session)
        last = int(state.value.get("last_id", 0))
        horizon = _horizon(session, state, grace_s)
        rows = session.execute(select(*FOLD_COLUMNS)
                               .where(PredictionRecord.id > last, PredictionRecord.id <= horizon)
                               .order_by(PredictionRecord.id).limit(batch)).all()
        if rows:
            found = layouts.get(session, {r.version_id for r in rows})
            merge_buckets(session, fold((record_dict(r) for r in rows), found))
            last = int(rows[-1].id)
        state.value = {**state.value, "last_id": last}
        state.updated_at = utcnow()
        return len(rows)


def _horizon(session: Session, state: MonitorState, grace_s: float) -> int:
    """Largest id known settled: the max id observed at least ``grace_s`` seconds ago."""
    now = time.time()
    newest = int(session.scalar(select(func.max(PredictionRecord.id))) or 0)
    seen = [tuple(s) for s in state.value.get("seen", [])] + [(now, newest)]
    settled = [int(i) for t, i in seen if t <= now - grace_s]
    horizon = max([int(state.value.get("horizon", 0)), *settled])
    # Keep the newest settled observation and the pending ones (bounded: one per pass).
    pending = [[t, i] for t, i in seen if t > now - grace_s][-100:]
    state.value = {**state.value, "seen": pending, "horizon": horizon}
    return horizon


def merge_buckets(session: Session, aggs: Mapping[Key, Aggregate]) -> None:
    """Add aggregates into their stored buckets (read, add, write; the caller holds the lock)."""
    if not aggs:
        return
    starts = {k[3] for k in aggs}
    lo = datetime.fromtimestamp(min(starts), UTC)
    hi = datetime.fromtimestamp(max(starts), UTC)
    deployments = {k[0] for k in aggs}
    existing = {(b.deployment, b.version_id, b.route, int(b.start.timestamp())): b
                for b in session.scalars(select(MonitorBucket).where(
                    MonitorBucket.deployment.in_(deployments),
                    MonitorBucket.start >= lo, MonitorBucket.start <= hi))}
    now = utcnow()
    for key, agg in aggs.items():
        row = existing.get(key)
        if row is not None:
            merged = Aggregate(agg.counts.copy(), agg.sums.copy())
            stored = Aggregate(np.frombuffer(row.counts, dtype="<i8").astype(np.int64),
                               np.frombuffer(row.sums, dtype="<f8").astype(np.float64))
            if stored.counts.size == merged.counts.size:
                merged.add(stored)
            row.counts, row.sums = merged.dump()
            row.updated_at = now
        else:
            counts, sums = agg.dump()
            session.add(MonitorBucket(deployment=key[0], version_id=key[1], route=key[2],
                                      start=datetime.fromtimestamp(key[3], UTC), counts=counts,
                                      sums=sums, updated_at=now))


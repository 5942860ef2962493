"""Prediction log storage, lookup and feedback."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from steward.errors import InvalidInput, NotFound
from steward.predictions.schemas import FeedbackIn, PredictionOut
from steward.predictions.tables import Feedback, PredictionRecord

_COLUMNS = ("request_id", "deployment", "environment", "model", "version", "version_id",
            "route", "rows", "inputs", "outputs", "confidence", "latency_ms", "ood", "fallback",
            "error", "caller", "purpose")


def make_sink(factory: sessionmaker[Session]) -> Any:
    """A spool sink inserting batches in one transaction, ignoring already-shipped rows."""

    def sink(records: Sequence[dict[str, Any]]) -> None:
        rows = [{**{c: r.get(c) for c in _COLUMNS},
                 "ts": datetime.fromtimestamp(r["ts"], UTC),
                 "ood": r.get("ood") or [], "fallback": bool(r.get("fallback"))}
                for r in records]
        with factory() as session, session.begin():
            dialect = session.get_bind().dialect.name
            stmt: Any
            if dialect == "postgresql":
                stmt = postgresql.insert(PredictionRecord).on_conflict_do_nothing()
            elif dialect == "sqlite":
                stmt = sqlite.insert(PredictionRecord).on_conflict_do_nothing()
            else:
                stmt = insert(PredictionRecord)
            session.execute(stmt, rows)

    return sink


def get_prediction(*, session: Session, request_id: str) -> list[PredictionOut]:
    """Every logged route of one request (champion/canary/fallback first, then shadows)."""
    rows = session.scalars(select(PredictionRecord).where(
        PredictionRecord.request_id == request_id).order_by(PredictionRecord.id)).all()
    if not rows:
        raise NotFound(f"no prediction with request id {request_id!r}", field="request_id")
    return [PredictionOut.model_validate(r, from_attributes=True) for r in rows]


def record_feedback(*, session: Session, items: Sequence[FeedbackIn]) -> int:
    """Store ground truth / outcomes; each must name a logged request. Upserts by (id, row)."""
    ids = {i.request_id for i in items}
    found = {rid: dep for rid, dep in session.execute(
        select(PredictionRecord.request_id, PredictionRecord.deployment)
        .where(PredictionRecord.request_id.in_(ids), PredictionRecord.route != "shadow"))}
    missing = sorted(ids - found.keys())
    if missing:
        raise InvalidInput(f"unknown request id(s): {', '.join(missing[:5])}",
                           field="request_id")
    for item in items:
        existing = session.scalar(select(Feedback).where(
            Feedback.request_id == item.request_id, Feedback.row == item.row))
        values = {"label": None if item.label is None else str(item.label), "value": item.value,
                  "outcome": item.outcome, "source": item.source,
                  "deployment": found[item.request_id]}
        if existing is None:
            session.add(Feedback(request_id=item.request_id, row=item.row, **values))
        else:
            for key, value in values.items():
                setattr(existing, key, value)
    return len(items)

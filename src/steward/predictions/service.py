"""Prediction log storage, lookup and feedback."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from steward.errors import InvalidInput, NotFound
from steward.predictions.schemas import FeedbackIn, PredictionOut
from steward.predictions.tables import Feedback, PredictionRecord

_COLUMNS = ("request_id", "deployment", "environment", "model", "version", "version_id",
            "route", "rows", "inputs", "outputs", "confidence", "latency_ms", "ood", "fallback",
            "error", "caller", "purpose")


_JSON_COLUMNS = frozenset({"inputs", "outputs", "ood"})


def make_sink(factory: sessionmaker[Session]) -> Any:
    """A spool sink: one transaction per batch, already-shipped rows ignored (idempotent).

    The shipper runs beside request handling in every worker, so this path is kept lean:
    the statement is compiled once and executed through the driver's `executemany` with JSON
    pre-serialised by orjson (the ORM bulk path cost ~100 µs per row, mostly holding the GIL).
    """
    engine = factory.kw["bind"]
    dialect = engine.dialect.name
    columns = ("ts", *_COLUMNS)
    marker = "?" if dialect == "sqlite" else "%s"
    sql = (f"INSERT INTO predictions ({', '.join(columns)}) VALUES "
           f"({', '.join([marker] * len(columns))}) "
           "ON CONFLICT (request_id, route, version_id) DO NOTHING")
    if dialect == "sqlite":
        # Same text form SQLAlchemy's SQLite DateTime writes, so ORM reads stay consistent.
        def ts_of(epoch: float) -> Any:
            return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    else:
        def ts_of(epoch: float) -> Any:
            return datetime.fromtimestamp(epoch, UTC)

    def row(r: dict[str, Any]) -> tuple[Any, ...]:
        values: list[Any] = [ts_of(r["ts"])]
        for c in _COLUMNS:
            v = r.get(c)
            if c in _JSON_COLUMNS:
                v = None if v is None and c == "outputs" else orjson.dumps(
                    v if v is not None else []).decode()
            elif c == "fallback":
                v = bool(v)
            elif c == "rows" and v is None:
                v = 1
            values.append(v)
        return tuple(values)

    def sink(records: Sequence[dict[str, Any]]) -> None:
        params = [row(r) for r in records]
        with engine.begin() as conn:
            conn.exec_driver_sql(sql, params)

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

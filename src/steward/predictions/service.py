"""Prediction log storage, lookup and feedback."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from steward.errors import InvalidInput, NotFound
from steward.predictions import records
from steward.predictions.schemas import FeedbackIn, PredictionOut
from steward.predictions.tables import Feedback, PredictionRecord


def make_sink(factory: sessionmaker[Session]) -> Any:
    """A spool sink: one transaction per batch of lines, already-shipped rows ignored.

    Kept lean because it runs for every served request: the statement is compiled once and
    executed through the driver's `executemany`; only each line's small scalar part is parsed
    (`records.decode`), the inputs/outputs JSON goes in as written by the serving worker.
    """
    engine = factory.kw["bind"]
    dialect = engine.dialect.name
    marker = "?" if dialect == "sqlite" else "%s"
    sql = (f"INSERT INTO predictions ({', '.join(records.COLUMNS)}) VALUES "
           f"({', '.join([marker] * len(records.COLUMNS))}) "
           "ON CONFLICT (request_id, route, version_id) DO NOTHING")
    ts_at, rows_at, fallback_at = (records.COLUMNS.index(c) for c in ("ts", "rows", "fallback"))
    if dialect == "sqlite":
        # Same text form SQLAlchemy's SQLite DateTime writes, so ORM reads stay consistent;
        # the seconds part is formatted once per second (strftime per row was 12 % of shipping).
        second, prefix = -1, ""

        def ts_of(epoch: float) -> Any:
            nonlocal second, prefix
            whole = int(epoch)
            if whole != second:
                second, prefix = whole, time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(whole))
            return f"{prefix}.{int((epoch - whole) * 1e6):06d}"
    else:
        def ts_of(epoch: float) -> Any:
            return datetime.fromtimestamp(epoch, UTC)

    def row(line: bytes) -> tuple[Any, ...]:
        values = records.decode(line)
        values[ts_at] = ts_of(values[ts_at])
        values[fallback_at] = bool(values[fallback_at])
        if values[rows_at] is None:
            values[rows_at] = 1
        return tuple(values)

    def sink(lines: Sequence[bytes]) -> None:
        params = [row(line) for line in lines]
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

"""Raw answered rows of a window, one entry per row, with feedback attached where given.

Feedback arrives late and may be corrected (it is upserted), so model-quality and fairness
metrics join the log with ``feedback`` at read time instead of folding it into buckets. The
read is bounded by ``MAX_RECORDS`` answered requests per window (``complete`` says if hit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.monitoring.aggregates import epoch, output_column
from steward.monitoring.windows import Window
from steward.predictions.tables import Feedback, PredictionRecord

MAX_RECORDS = 100_000
_IN_CHUNK = 500


@dataclass
class Rows:
    """Answered rows (shadows and errors excluded) of one deployment over a window."""

    ts: npt.NDArray[np.float64]
    version_id: npt.NDArray[np.int64]
    label: npt.NDArray[Any]                  # predicted label (str) or prediction (float)
    proba: npt.NDArray[np.float64] | None    # (n, classes) or None
    truth_label: npt.NDArray[Any]            # feedback label (str) or None
    truth_value: npt.NDArray[np.float64]     # feedback value, NaN when none
    features: dict[str, npt.NDArray[Any]] = field(default_factory=dict)
    complete: bool = True

    @property
    def n(self) -> int:
        """Number of rows."""
        return int(self.ts.size)


def read_rows(session: Session, deployment: str, window: Window, classes: Sequence[str],
              task: str, features: Sequence[str] = (), only_with_feedback: bool = False) -> Rows:
    """Every answered row of the window with its feedback (optionally only rows with some)."""
    cols = [PredictionRecord.id, PredictionRecord.request_id, PredictionRecord.ts,
            PredictionRecord.version_id, PredictionRecord.rows, PredictionRecord.outputs]
    if features:
        cols.append(PredictionRecord.inputs)
    stmt = select(*cols).where(PredictionRecord.deployment == deployment,
                               PredictionRecord.route != "shadow",
                               PredictionRecord.outputs.is_not(None))
    if only_with_feedback:
        stmt = stmt.where(PredictionRecord.request_id.in_(
            select(Feedback.request_id).where(Feedback.deployment == deployment)))
    if window.last is None:
        stmt = stmt.where(PredictionRecord.ts >= window.start, PredictionRecord.ts <= window.end)
    limit = MAX_RECORDS if window.last is None else min(window.last, MAX_RECORDS)
    records = session.execute(stmt.order_by(PredictionRecord.id.desc()).limit(limit + 1)).all()
    complete = len(records) <= limit
    records = records[:limit][::-1]
    truth = _feedback(session, [r.request_id for r in records])
    n_rows = [int(r.rows or 0) for r in records]
    outputs = [r.outputs for r in records]
    name = "prediction" if task == "regression" else "label"
    label = output_column(outputs, n_rows, name, classes)
    proba = None
    if task != "regression" and classes:
        stacked = [output_column(outputs, n_rows, f"probability:{c}", classes) for c in classes]
        proba = np.array([np.asarray(col, dtype=np.float64) for col in stacked]).T \
            if all(v is not None for col in stacked for v in col) else None
    keys = [(r.request_id, i) for r, n in zip(records, n_rows, strict=True) for i in range(n)]
    found = [truth.get(k, (None, None)) for k in keys]
    rows = Rows(
        ts=np.repeat([epoch(r.ts) for r in records], n_rows).astype(np.float64),
        version_id=np.repeat([r.version_id for r in records], n_rows).astype(np.int64),
        label=np.asarray([str(v) for v in label] if task != "regression"
                         else np.asarray(label, dtype=np.float64)),
        proba=proba,
        truth_label=np.asarray([t[0] for t in found], dtype=object),
        truth_value=np.asarray([np.nan if t[1] is None else t[1] for t in found], np.float64),
        complete=complete)
    for feat in features:
        vals: list[Any] = []
        for r, n in zip(records, n_rows, strict=True):
            col = (r.inputs or {}).get(feat)
            vals.extend(col if col is not None else [None] * n)
        rows.features[feat] = np.asarray(vals, dtype=object)
    return rows


def _feedback(session: Session, request_ids: Sequence[str]
              ) -> dict[tuple[str, int], tuple[str | None, float | None]]:
    """Feedback (label, value) by (request id, row)."""
    out: dict[tuple[str, int], tuple[str | None, float | None]] = {}
    unique = sorted(set(request_ids))
    for start in range(0, len(unique), _IN_CHUNK):
        chunk = unique[start:start + _IN_CHUNK]
        for rid, row, label, value in session.execute(
                select(Feedback.request_id, Feedback.row, Feedback.label, Feedback.value)
                .where(Feedback.request_id.in_(chunk))):
            out[(rid, row)] = (label, value)
    return out

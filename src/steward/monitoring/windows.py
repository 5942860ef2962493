"""Window reads: stored buckets plus the not-yet-folded tail of the log, or the last N rows.

A time window ``[start, end]`` is widened to whole minutes (``start`` rounded down). It is
the sum of the buckets starting in it plus every raw row with ``id > watermark`` and ``ts``
in it: rows are either folded (then in exactly one bucket) or above the watermark (then read
raw), never both, because the watermark and the buckets are read in one snapshot
(``REPEATABLE READ`` on PostgreSQL; SQLite transactions take the write lock at BEGIN).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.monitoring.aggregates import BUCKET_S, Aggregate, Layout, bucket_of, fold
from steward.monitoring.aggregator import FOLD_COLUMNS, Layouts, record_dict, watermark
from steward.monitoring.schemas import MAX_LAST, WindowOut, parse_duration
from steward.monitoring.tables import MonitorBucket
from steward.predictions.tables import PredictionRecord

RAW_TAIL_MAX = 200_000  # most unfolded records read per window (the aggregator lags less)

Part = tuple[int, str, int]  # version_id, route, bucket start


@dataclass(frozen=True)
class Window:
    """A time range (``last is None``) or the last N logged rows."""

    end: datetime
    start: datetime | None = None
    last: int | None = None

    def previous(self) -> Window:
        """The window of the same size just before this one."""
        if self.start is None:
            return Window(self.end, None, self.last)
        return Window(self.start, self.start - (self.end - self.start), None)


def make_window(window: str | None, last: int | None, now: datetime | None = None) -> Window:
    """Window from ``--window 1h`` or ``--last N`` (default: the last hour)."""
    from steward.errors import InvalidInput

    end = now or datetime.now(UTC)
    if last is not None:
        if window is not None:
            raise InvalidInput("give either window or last, not both", field="last")
        if not 1 <= last <= MAX_LAST:
            raise InvalidInput(f"last must be between 1 and {MAX_LAST}", field="last")
        return Window(end, None, last)
    start = end - parse_duration(window or "1h")
    return Window(end, datetime.fromtimestamp(bucket_of(start), UTC))


@dataclass
class WindowData:
    """A window's aggregates per (version, route, minute) and the layouts to read them."""

    window: Window
    parts: dict[Part, Aggregate] = field(default_factory=dict)
    layouts: dict[int, Layout] = field(default_factory=dict)
    unfolded: int = 0
    complete: bool = True

    def total(self, version_id: int | None = None,
              routes: Collection[str] | None = None) -> Aggregate | None:
        """Sum over minutes (and routes) of one version; None when the window has no rows."""
        out: Aggregate | None = None
        for (vid, route, _), agg in self.parts.items():
            if (version_id is None or vid == version_id) and (routes is None or route in routes):
                if out is None:
                    out = self.layouts[vid].empty()
                out.add(agg)
        return out

    def out(self) -> WindowOut:
        """The window's summary for responses."""
        requests = sum(a.scalar("requests") for a in self.parts.values())
        rows = sum(a.scalar("rows") for a in self.parts.values())
        return WindowOut(start=self.window.start, end=self.window.end, last=self.window.last,
                         requests=requests, rows=rows, unfolded_requests=self.unfolded,
                         complete=self.complete)


def read(session: Session, layouts: Layouts, deployment: str, window: Window,
         version_ids: Collection[int] | None = None, *, skip_rows: int = 0,
         include_tail: bool = True) -> WindowData:
    """Aggregates of ``deployment`` (optionally some versions) over ``window``; with
    ``include_tail=False`` only what is already folded into buckets (no raw rows parsed)."""
    if window.last is not None:
        return _read_last(session, layouts, deployment, window, version_ids, skip_rows)
    assert window.start is not None
    data = WindowData(window)
    stmt = select(MonitorBucket).where(MonitorBucket.deployment == deployment,
                                       MonitorBucket.start >= window.start,
                                       MonitorBucket.start <= window.end)
    if version_ids is not None:
        stmt = stmt.where(MonitorBucket.version_id.in_(version_ids))
    buckets = session.scalars(stmt).all()
    wm = watermark(session)
    tail_stmt = (select(*FOLD_COLUMNS)
                 .where(PredictionRecord.id > wm, PredictionRecord.deployment == deployment,
                        PredictionRecord.ts >= window.start, PredictionRecord.ts <= window.end)
                 .order_by(PredictionRecord.id).limit(RAW_TAIL_MAX + 1))
    if version_ids is not None:
        tail_stmt = tail_stmt.where(PredictionRecord.version_id.in_(version_ids))
    tail = session.execute(tail_stmt).all() if include_tail else []
    if len(tail) > RAW_TAIL_MAX:
        tail, data.complete = tail[:RAW_TAIL_MAX], False
    data.layouts = layouts.get(session, {b.version_id for b in buckets}
                               | {r.version_id for r in tail})
    for b in buckets:
        layout = data.layouts.get(b.version_id)
        if layout is not None:
            _add(data, (b.version_id, b.route, int(b.start.timestamp())),
                 layout.load(b.counts, b.sums))
    data.unfolded = len(tail)
    for (_, vid, route, start), agg in fold((record_dict(r) for r in tail),
                                            data.layouts).items():
        _add(data, (vid, route, start), agg)
    return data


def _add(data: WindowData, part: Part, agg: Aggregate) -> None:
    have = data.parts.get(part)
    data.parts[part] = agg if have is None else have.add(agg)


def _read_last(session: Session, layouts: Layouts, deployment: str, window: Window,
               version_ids: Collection[int] | None, skip_rows: int) -> WindowData:
    """The newest ``window.last`` answered rows (after skipping ``skip_rows``), from raw rows."""
    assert window.last is not None
    want = window.last + skip_rows
    stmt = (select(*FOLD_COLUMNS).where(PredictionRecord.deployment == deployment)
            .order_by(PredictionRecord.id.desc()))
    if version_ids is not None:
        stmt = stmt.where(PredictionRecord.version_id.in_(version_ids))
    records: list[dict[str, Any]] = []
    seen = offset = 0
    while seen < want:
        chunk = session.execute(stmt.offset(offset).limit(1000)).all()
        if not chunk:
            break
        offset += len(chunk)
        for r in chunk:
            rec = record_dict(r)
            n = int(rec["rows"] or 0)
            keep = _clip(rec, seen, n, skip_rows, want)
            seen += n
            if keep is not None:
                records.append(keep)
            if seen >= want:
                break
    data = WindowData(window)
    data.layouts = layouts.get(session, {int(r["version_id"]) for r in records})
    for (_, vid, route, start), agg in fold(records, data.layouts).items():
        _add(data, (vid, route, start), agg)
    data.unfolded = len(records)
    return data


def _clip(rec: dict[str, Any], seen: int, n: int, skip: int, want: int
          ) -> dict[str, Any] | None:
    """Keep only the rows of a record (newest last) that fall in ``(skip, want]``."""
    lo, hi = max(skip - seen, 0), min(want - seen, n)  # rows counted from the newest
    if hi <= lo:
        return None
    if lo == 0 and hi == n:
        return rec
    a, b = n - hi, n - lo  # slice in stored (oldest-first) order
    out = dict(rec)
    out["rows"] = b - a
    for key in ("inputs", "outputs"):
        cols = rec.get(key)
        if isinstance(cols, dict):
            out[key] = {k: v[a:b] if isinstance(v, list) else v for k, v in cols.items()}
    return out


def minutes(window: Window) -> float:
    """Length of a time window in minutes (for throughput)."""
    if window.start is None:
        return 0.0
    return max((window.end - window.start) / timedelta(seconds=BUCKET_S), 1e-9)

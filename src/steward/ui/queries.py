"""Read-only aggregates over the prediction log for the dashboard (one query each, no N+1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
from sqlalchemy import Integer, case, func, select
from sqlalchemy.orm import Session

from steward.predictions.tables import PredictionRecord as P

MAX_POINTS = 200_000  # latency samples read for the percentile chart (newest first)


@dataclass(frozen=True)
class RouteStats:
    """Served requests on one route over a window."""

    route: str
    requests: int
    errors: int
    fallbacks: int
    mean_latency_ms: float | None


@dataclass(frozen=True)
class LatencySamples:
    """Request times (epoch seconds) and latencies (ms) of served, non-shadow requests."""

    ts: npt.NDArray[np.float64]
    latency_ms: npt.NDArray[np.float64]
    truncated: bool


def route_stats(*, session: Session, deployment: str, since: datetime) -> list[RouteStats]:
    """Requests, errors, fallbacks and mean latency per route since `since`."""
    stmt = (select(P.route, func.count(), func.sum(case((P.error.is_not(None), 1), else_=0)),
                   func.sum(func.cast(P.fallback, Integer)), func.avg(P.latency_ms))
            .where(P.deployment == deployment, P.ts >= since)
            .group_by(P.route).order_by(P.route))
    return [RouteStats(route, int(n), int(errors or 0), int(fallbacks or 0),
                       None if mean is None else float(mean))
            for route, n, errors, fallbacks, mean in session.execute(stmt)]


def latency_samples(*, session: Session, deployment: str, since: datetime,
                    limit: int = MAX_POINTS) -> LatencySamples:
    """Time and latency of served requests since `since` (two columns via the ts index)."""
    stmt = (select(P.ts, P.latency_ms)
            .where(P.deployment == deployment, P.ts >= since, P.route != "shadow")
            .order_by(P.ts.desc()).limit(limit + 1))
    rows = session.execute(stmt).all()
    truncated = len(rows) > limit
    rows = rows[:limit]
    ts = np.fromiter((r[0].timestamp() for r in rows), dtype=np.float64, count=len(rows))
    lat = np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
    return LatencySamples(ts[::-1].copy(), lat[::-1].copy(), truncated)

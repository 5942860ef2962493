"""Prometheus metrics of the gateway, with label children cached so a request pays a dict hit.

`prometheus_client`'s `.labels(...)` takes a lock and builds a key per call (~1-2 µs); the
children are cached per label tuple here, which leaves an `inc()`/`observe()` of ~0.3-1 µs.
Label values are deployment names, `model:version` labels, a fixed route set and status
codes, so cardinality is bounded by what operators deploy, never by what callers send.
"""

from __future__ import annotations

import bisect
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter("steward_gateway_requests", "Inference requests answered",
                   ["deployment", "version", "route", "code"])
LATENCY = Histogram("steward_gateway_latency_seconds", "Gateway time per inference request",
                    ["deployment", "route"],
                    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0))
FALLBACKS = Counter("steward_gateway_fallbacks", "Requests answered by a fallback",
                    ["deployment", "reason"])
SHED = Counter("steward_gateway_shed", "Requests refused because the deployment was full",
               ["deployment"])
COLD_START = Gauge("steward_gateway_cold_start_seconds", "Load time of a model version",
                   ["model", "version"])
SHADOW_DROPPED = Counter("steward_gateway_shadow_dropped", "Shadow copies dropped (backlog full)",
                         ["deployment"])
BATCH_SIZE = Histogram("steward_gateway_batch_rows", "Rows per model call after micro-batching",
                       ["model", "version"], buckets=(1, 2, 4, 8, 16, 32, 64, 128, 512, 4096))

_children: dict[tuple[Any, ...], Any] = {}


def _child(metric: Any, *labels: str) -> Any:
    key = (id(metric), *labels)
    child = _children.get(key)
    if child is None:
        child = _children.setdefault(key, metric.labels(*labels))
    return child


# The per-request metrics are aggregated in plain dicts and folded into prometheus_client every
# FLUSH_S by a timer on the event loop (the only thread touching the dicts) and before every
# scrape: in multiprocess mode each inc()/observe() is a locked mmap write plus a pid check
# (~6 % of a worker's CPU at full load, measured).
FLUSH_S = 0.5
_LAT_BOUNDS = LATENCY._upper_bounds  # includes +Inf
_pending_requests: dict[tuple[str, str, str, str], int] = {}
_pending_latency: dict[tuple[str, str], list[float]] = {}  # per bucket counts + [sum] at end
_pending_batches: dict[tuple[str, str], list[float]] = {}
_BATCH_BOUNDS = BATCH_SIZE._upper_bounds


def request_done(deployment: str, version: str, route: str, code: int, seconds: float) -> None:
    """Count one answered request and its latency (aggregated locally, flushed in bulk)."""
    key = (deployment, version, route, str(code))
    _pending_requests[key] = _pending_requests.get(key, 0) + 1
    _observe(_pending_latency, (deployment, route), _LAT_BOUNDS, seconds)


def _observe(pending: dict[tuple[str, str], list[float]], key: tuple[str, str],
             bounds: list[float], value: float) -> None:
    counts = pending.get(key)
    if counts is None:
        counts = pending[key] = [0.0] * (len(bounds) + 1)
    counts[bisect.bisect_left(bounds, value)] += 1
    counts[-1] += value


def flush() -> None:
    """Fold the locally aggregated counts into the Prometheus metrics."""
    while _pending_requests:
        labels, n = _pending_requests.popitem()
        _child(REQUESTS, *labels).inc(n)
    for metric, pending in ((LATENCY, _pending_latency), (BATCH_SIZE, _pending_batches)):
        while pending:
            pair, counts = pending.popitem()
            _bulk_observe(_child(metric, *pair), counts)


def _bulk_observe(child: Any, counts: list[float]) -> None:
    """Add many observations to a histogram child at once (per-bucket counts and a sum)."""
    buckets = getattr(child, "_buckets", None)
    if buckets is None:  # pinned prometheus_client; fail loudly if its layout ever changes
        raise RuntimeError("unexpected prometheus_client histogram layout")
    for i, n in enumerate(counts[:-1]):
        if n:
            buckets[i].inc(n)
    child._sum.inc(counts[-1])


def fallback(deployment: str, reason: str) -> None:
    """Count one fallback answer."""
    _child(FALLBACKS, deployment, reason).inc()


def shed(deployment: str) -> None:
    """Count one refused request."""
    _child(SHED, deployment).inc()


def cold_start(model: str, version: int, seconds: float) -> None:
    """Record how long a version took to load."""
    _child(COLD_START, model, str(version)).set(seconds)


def shadow_dropped(deployment: str) -> None:
    """Count one dropped shadow copy."""
    _child(SHADOW_DROPPED, deployment).inc()


def batch(model: str, version: int, rows: int) -> None:
    """Record the size of one model call (aggregated locally, flushed in bulk)."""
    _observe(_pending_batches, (model, str(version)), _BATCH_BOUNDS, float(rows))

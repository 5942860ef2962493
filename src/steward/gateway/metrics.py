"""Prometheus metrics of the gateway, with label children cached so a request pays a dict hit.

`prometheus_client`'s `.labels(...)` takes a lock and builds a key per call (~1-2 µs); the
children are cached per label tuple here, which leaves an `inc()`/`observe()` of ~0.3-1 µs.
Label values are deployment names, `model:version` labels, a fixed route set and status
codes, so cardinality is bounded by what operators deploy, never by what callers send.
"""

from __future__ import annotations

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


def request_done(deployment: str, version: str, route: str, code: int, seconds: float) -> None:
    """Count one answered request and its latency."""
    _child(REQUESTS, deployment, version, route, str(code)).inc()
    _child(LATENCY, deployment, route).observe(seconds)


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
    """Record the size of one model call."""
    _child(BATCH_SIZE, model, str(version)).observe(rows)

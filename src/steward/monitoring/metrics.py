"""The Prometheus ``/metrics`` exposition: gateway counters plus the latest drift gauges.

Gateway counters and histograms live in ``steward.gateway.metrics``. With several uvicorn
workers, ``steward serve`` sets ``PROMETHEUS_MULTIPROC_DIR`` before the workers start, so
each worker's ``prometheus_client`` writes its values to files there and any worker's
scrape sums them (``MultiProcessCollector``). Without it (one process, TestClient) the
default registry is read. Drift gauges are computed by the monitoring leader and stored in
``monitor_state``; every worker reads them from the database at scrape time, so they are
the same whichever worker or host answers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from steward.monitoring.tables import Alert, MonitorState

GAUGES_PREFIX = "gauges:"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _StoredGauges(Collector):
    """Drift gauges and open-alert counts read from the database."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory

    def collect(self) -> Iterator[GaugeMetricFamily]:
        value = GaugeMetricFamily("steward_drift_value", "Latest drift statistic per feature",
                                  labels=["deployment", "version", "feature", "statistic"])
        share = GaugeMetricFamily("steward_drift_share", "Share of drifted features",
                                  labels=["deployment", "version"])
        rows = GaugeMetricFamily("steward_drift_window_rows", "Rows in the drift window",
                                 labels=["deployment", "version"])
        alerts = GaugeMetricFamily("steward_alerts_open", "Open monitoring alerts",
                                   labels=["deployment"])
        with self._factory() as session:
            stored = session.scalars(select(MonitorState).where(
                MonitorState.name.like(f"{GAUGES_PREFIX}%"))).all()
            open_alerts = session.execute(select(Alert.deployment, func.count())
                                          .where(Alert.status == "open")
                                          .group_by(Alert.deployment)).all()
        for row in stored:
            g: dict[str, Any] = row.value
            dep, ver, stat = g["deployment"], g["version"], g["statistic"]
            for feature, v in g.get("features", {}).items():
                if v is not None:
                    value.add_metric([dep, ver, feature, stat], float(v))
            share.add_metric([dep, ver], float(g.get("drifted_share", 0.0)))
            rows.add_metric([dep, ver], float(g.get("rows", 0)))
        for dep, count in open_alerts:
            alerts.add_metric([dep], float(count))
        yield from (value, share, rows, alerts)


def render(factory: sessionmaker[Session]) -> bytes:
    """The exposition text of every Steward metric."""
    from steward.gateway import metrics as gateway_metrics  # registers the gateway's metrics

    gateway_metrics.flush()  # this worker's locally aggregated counts, before the scrape

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        head = generate_latest(registry)
    else:
        head = generate_latest(REGISTRY)
    stored = CollectorRegistry()
    stored.register(_StoredGauges(factory))
    return head + generate_latest(stored)


def store_gauges(session: Session, *, deployment: str, report: Any, statistic: str) -> None:
    """Save the leader's latest drift numbers of a deployment for every worker to expose."""
    name = f"{GAUGES_PREFIX}{deployment}"
    value = {"deployment": deployment, "version": report.version, "statistic": statistic,
             "drifted_share": report.drifted_share, "rows": report.window.rows,
             "features": {f["feature"]: f["statistics"].get(statistic)
                          for f in (*report.features, *report.outputs)}}
    row = session.get(MonitorState, name)
    if row is None:
        session.add(MonitorState(name=name, value=value))
    else:
        row.value = value

"""Monitoring pages over the monitoring service: drift, quality, latency, accuracy, fairness."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from starlette.responses import Response

from steward.api.deps import StateDep
from steward.deployments import service as deployments
from steward.errors import NotFound
from steward.monitoring import alerts, report
from steward.monitoring import service as monitoring
from steward.monitoring.windows import make_window
from steward.ui import charts
from steward.ui.render import UIRoute, page
from steward.ui.session import UI

router = APIRouter(route_class=UIRoute)

Window = Literal["1h", "24h", "7d"]


@router.get("/monitoring")
def overview(request: Request, state: StateDep, ui: UI) -> Response:
    """Deployments the principal may monitor, with their open alerts."""
    with state.factory() as session:
        rows = [d for d in deployments.list_deployments(session=session)
                if ui.principal.allows("monitor:read", d.name, d.environment)]
        names = {d.name for d in rows}
        open_alerts = [a for a in alerts.list_alerts(session=session, status="open")
                       if a.deployment in names]
    return page(request, "monitoring.html", ui, deployments=rows, alerts=open_alerts)


@router.get("/monitoring/{name}")
def deployment(request: Request, name: str, state: StateDep, ui: UI,
               window: Window = "24h") -> Response:
    """Per-feature drift with histograms, completeness, silent failures, accuracy, fairness."""
    layouts = state.extras["monitor"].layouts
    win = make_window(window, None)
    with state.factory() as session:
        row = monitoring.get_deployment(session=session, name=name)
        if not ui.principal.allows("monitor:read", name, row.environment):
            raise NotFound(f"deployment {name!r} not found")
        # The drift report's own binning (the bins the statistics saw), as the HTML report.
        drift, layout, agg = monitoring._drift(session, layouts, name, win, None)
        hists = [report.histogram(s.name, s.profile, agg.counts[s.start:s.stop])
                 for s in (*layout.features, *layout.outputs)]
        quality = monitoring.quality(session=session, layouts=layouts, deployment=name,
                                     window=win)
        perf = monitoring.performance(session=session, layouts=layouts, deployment=name,
                                      window=win)
        fairness = (monitoring.fairness(session=session, layouts=layouts, deployment=name,
                                        window=win) if perf.task != "regression" else None)
        deployment_alerts = alerts.list_alerts(session=session, deployment=name)[:50]
    figures = _figures(hists, perf.series, fairness.features if fairness else [])
    silent = [c for c in quality.checks if c.get("check") != "completeness"]
    return page(request, "monitor.html", ui, deployment=name, environment=row.environment,
                drift=drift, quality=quality, perf=perf, fairness=fairness, silent=silent,
                alerts=deployment_alerts, window=window, windows=["1h", "24h", "7d"],
                **figures)


def _figures(hists: list[report.Histogram], series: list[dict[str, Any]],
             fairness: list[dict[str, Any]]) -> dict[str, Any]:
    drift_figs = [(h.name, charts.paired_bars(h.name, h.labels, h.reference, h.current))
                  for h in hists]
    latency = charts.series_figure(series, {"latency_p50_ms": "p50", "latency_p90_ms": "p90",
                                            "latency_p99_ms": "p99"}, "latency (ms)")
    accuracy = charts.series_figure(series, {"accuracy": "accuracy", "roc_auc": "ROC AUC",
                                             "f1": "F1"}, "score")
    fair = [(f["feature"], charts.series_figure(
        f.get("series") or [], {"demographic_parity_difference": "demographic parity diff.",
                                "equalized_odds_difference": "equalized odds diff."},
        "difference")) for f in fairness]
    return {"drift_figures": drift_figs, "latency_figure": latency,
            "accuracy_figure": accuracy, "fairness_figures": fair}

"""Monitoring routes: drift, quality, performance, fairness, config, alerts, /metrics."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.api.deps import SessionDep, StateDep, get_principal
from steward.deployments.tables import Deployment
from steward.errors import PermissionDenied
from steward.monitoring import alerts, metrics, service
from steward.monitoring.schemas import (
    AlertOut,
    AlertResolve,
    AlertRuleCreate,
    AlertRuleOut,
    DriftOut,
    FairnessOut,
    MonitoringConfig,
    PerformanceOut,
    QualityOut,
)
from steward.monitoring.windows import Window, make_window
from steward.monitoring.worker import Monitor
from steward.security.principal import Principal
from steward.state import AppState

router = APIRouter(prefix="/api/v1/monitoring", tags=["monitoring"])
metrics_router = APIRouter(tags=["monitoring"])
Caller = Annotated[Principal, Depends(get_principal)]


def get_monitor(state: StateDep) -> Monitor:
    """The process's monitoring loop (layouts cache, leader round)."""
    monitor: Monitor = state.extras["monitor"]
    return monitor


def read_session(state: StateDep) -> Iterator[Session]:
    """A read-only snapshot: buckets and watermark must be read consistently (PostgreSQL)."""
    with state.factory() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        yield session


def window_of(window: Annotated[str | None, Query(description="30m, 1h, 7d ...")] = None,
              last: Annotated[int | None, Query(description="Last N logged rows.")] = None
              ) -> Window:
    """The window from query parameters (default: the last hour)."""
    return make_window(window, last)


MonitorDep = Annotated[Monitor, Depends(get_monitor)]
ReadDep = Annotated[Session, Depends(read_session)]
WindowDep = Annotated[Window, Depends(window_of)]


def check(session: Session, who: Principal, operation: str, deployment: str) -> None:
    """The caller must hold ``operation`` on the deployment in its environment."""
    dep = service.get_deployment(session=session, name=deployment)
    if not who.allows(operation, deployment, dep.environment):
        raise PermissionDenied(f"this key lacks {operation!r} on {deployment!r}")


@router.get("/{deployment}/drift")
def drift(deployment: str, session: ReadDep, who: Caller, monitor: MonitorDep, win: WindowDep,
          version: str | None = None) -> DriftOut:
    """Feature and prediction drift against the version's reference profile."""
    check(session, who, "monitor:read", deployment)
    return service.drift(session=session, layouts=monitor.layouts, deployment=deployment,
                         window=win, version=version)


@router.get("/{deployment}/drift/report.html", response_class=HTMLResponse)
def drift_report(deployment: str, session: ReadDep, who: Caller, monitor: MonitorDep,
                 win: WindowDep, version: str | None = None) -> HTMLResponse:
    """The drift report as a self-contained HTML page."""
    check(session, who, "monitor:read", deployment)
    return HTMLResponse(service.drift_html(session=session, layouts=monitor.layouts,
                                           deployment=deployment, window=win, version=version))


@router.get("/{deployment}/quality")
def quality(deployment: str, session: ReadDep, who: Caller, monitor: MonitorDep,
            win: WindowDep, version: str | None = None) -> QualityOut:
    """Completeness, violations, OOD rate and silent-failure checks."""
    check(session, who, "monitor:read", deployment)
    return service.quality(session=session, layouts=monitor.layouts, deployment=deployment,
                           window=win, version=version)


@router.get("/{deployment}/performance")
def performance(deployment: str, session: ReadDep, who: Caller, monitor: MonitorDep,
                win: WindowDep, step: int | None = None) -> PerformanceOut:
    """Latency, throughput, errors; accuracy/AUC/calibration or MAE/RMSE from feedback."""
    check(session, who, "monitor:read", deployment)
    return service.performance(session=session, layouts=monitor.layouts,
                               deployment=deployment, window=win, step=step)


@router.get("/{deployment}/fairness")
def fairness(deployment: str, session: ReadDep, who: Caller, monitor: MonitorDep,
             win: WindowDep, step: int | None = None) -> FairnessOut:
    """Selection rates and parity differences per protected feature."""
    check(session, who, "monitor:read", deployment)
    return service.fairness(session=session, layouts=monitor.layouts, deployment=deployment,
                            window=win, step=step)


@router.get("/{deployment}/config")
def get_config(deployment: str, session: SessionDep, who: Caller) -> MonitoringConfig:
    """Thresholds and methods in force."""
    check(session, who, "monitor:read", deployment)
    return service.get_config(session=session, deployment=deployment)


@router.put("/{deployment}/config")
def set_config(deployment: str, body: MonitoringConfig, session: SessionDep,
               who: Caller) -> MonitoringConfig:
    """Replace thresholds and methods (per feature / output), drift share, silent limits."""
    check(session, who, "monitor:write", deployment)
    return service.set_config(session=session, deployment=deployment, config=body,
                              actor=who.name)


@router.post("/run")
def run(state: StateDep, who: Caller, monitor: MonitorDep) -> dict[str, object]:
    """Run one monitoring round now (fold settled rows, gauges, alert rules)."""
    if not who.allows("monitor:write"):
        raise PermissionDenied("this key lacks the 'monitor:write' permission")
    return monitor.run_once(alerts_due=True)


@router.get("/alert-rules")
def list_rules(session: SessionDep, who: Caller, deployment: str | None = None
               ) -> list[AlertRuleOut]:
    """Alert rules the caller may read."""
    allowed = _readable(session, who)
    return [r for r in alerts.list_rules(session=session, deployment=deployment)
            if r.deployment in allowed]


@router.post("/alert-rules", status_code=201)
def create_rule(spec: AlertRuleCreate, session: SessionDep, who: Caller) -> AlertRuleOut:
    """Create an alert rule."""
    check(session, who, "monitor:write", spec.deployment)
    return alerts.create_rule(session=session, spec=spec, actor=who.name)


@router.delete("/alert-rules/{rule_id}", status_code=204)
def delete_rule(rule_id: int, session: SessionDep, who: Caller) -> None:
    """Delete an alert rule and its alerts."""
    check(session, who, "monitor:write", alerts.get_rule(session=session,
                                                          rule_id=rule_id).deployment)
    alerts.delete_rule(session=session, rule_id=rule_id)


@router.get("/alerts")
def list_alerts(session: SessionDep, who: Caller, deployment: str | None = None,
                status: str | None = None) -> list[AlertOut]:
    """Alerts (newest first) the caller may read."""
    allowed = _readable(session, who)
    return [a for a in alerts.list_alerts(session=session, deployment=deployment, status=status)
            if a.deployment in allowed]


@router.post("/alerts/{alert_id}/resolve")
def resolve(alert_id: int, body: AlertResolve, session: SessionDep, who: Caller) -> AlertOut:
    """Close an open alert."""
    check(session, who, "monitor:write", alerts.get_alert(session=session,
                                                           alert_id=alert_id).deployment)
    return alerts.resolve(session=session, alert_id=alert_id, actor=who.name, note=body.note)


def _readable(session: Session, who: Principal) -> set[str]:
    rows = session.execute(select(Deployment.name, Deployment.environment)).all()
    return {name for name, env in rows if who.allows("monitor:read", name, env)}


@metrics_router.get("/metrics", include_in_schema=False)
def prometheus(state: StateDep) -> Response:
    """Prometheus exposition (unauthenticated, like most scrape targets; no request data)."""
    return Response(metrics.render(state.factory), media_type=metrics.CONTENT_TYPE)


def attach(state: AppState) -> Monitor:
    """Create the process's monitor in the app state (called by the app factory)."""
    monitor: Monitor = state.extras.setdefault("monitor", Monitor(state.factory, state.settings))
    return monitor

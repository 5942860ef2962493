"""Alert rules: metrics they can watch, scheduled evaluation, dedup, delivery, resolution.

A rule compares one metric of a deployment's window with a threshold. Feature-scoped
metrics (drift statistics, missing rate, fairness differences) yield one value per feature
unless the rule names one; each (rule, scope) has at most one open alert at a time
(``alerts.open_key`` is unique while open, NULL once resolved). Opening an alert enqueues a
signed webhook ``monitoring.alert.opened`` in the same transaction (``retrain`` in the
payload marks retraining triggers); resolving one enqueues ``monitoring.alert.resolved``.
"""

from __future__ import annotations

import logging
import operator
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from steward.db import utcnow
from steward.errors import Conflict, NotFound
from steward.monitoring import service
from steward.monitoring.aggregator import Layouts
from steward.monitoring.schemas import AlertOut, AlertRuleCreate, AlertRuleOut
from steward.monitoring.tables import Alert, AlertRule
from steward.monitoring.windows import make_window

log = logging.getLogger(__name__)
Scoped = list[tuple[dict[str, Any], float | None]]
Report = Any

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


def _drift_stat(key: str | None) -> Callable[[Report], Scoped]:
    def get(r: Report) -> Scoped:
        return [({"feature": f["feature"]}, f["value"] if key is None else f["statistics"].get(key))
                for f in (*r.features, *r.outputs)]
    return get


def _serving(key: str) -> Callable[[Report], Scoped]:
    return lambda r: [({}, r.serving[0][key] if r.serving else None)]


def _model_quality(key: str) -> Callable[[Report], Scoped]:
    return lambda r: [({}, r.quality.get(key))]


def _fair(key: str) -> Callable[[Report], Scoped]:
    return lambda r: [({"feature": f["feature"]}, f[key]) for f in r.features]


def _silent(r: Report) -> Scoped:
    return [({}, float(sum(c["status"] == "fail" and c["check"] != "completeness"
                           for c in r.checks)))]


# metric -> (report kind, extractor)
METRICS: dict[str, tuple[str, Callable[[Report], Scoped]]] = {
    "drift_share": ("drift", lambda r: [({}, r.drifted_share)]),
    "drift": ("drift", _drift_stat(None)),
    **{s: ("drift", _drift_stat(s)) for s in ("psi", "kl", "jensenshannon", "wasserstein",
                                              "ks_pvalue", "chisquare_pvalue")},
    "missing_rate": ("quality", lambda r: [
        ({"feature": f["feature"]}, None if f["completeness"] is None else 1 - f["completeness"])
        for f in r.features]),
    "error_rate": ("quality", lambda r: [({}, r.error_rate)]),
    "fallback_rate": ("quality", lambda r: [({}, r.fallback_rate)]),
    "ood_rate": ("quality", lambda r: [({}, r.ood_rate)]),
    "silent_failures": ("quality", _silent),
    **{k: ("performance", _serving(k)) for k in (
        "latency_p50_ms", "latency_p90_ms", "latency_p99_ms", "throughput_per_min")},
    **{k: ("performance", _model_quality(k)) for k in (
        "accuracy", "f1", "precision", "recall", "roc_auc", "brier", "mae", "rmse")},
    **{k: ("fairness", _fair(k)) for k in ("demographic_parity_difference",
                                           "equalized_odds_difference")},
}


def create_rule(*, session: Session, spec: AlertRuleCreate, actor: str) -> AlertRuleOut:
    """Store a rule (the deployment must exist)."""
    service.get_deployment(session=session, name=spec.deployment)
    row = AlertRule(**spec.model_dump(), created_by=actor, created_at=utcnow())
    session.add(row)
    session.flush()
    return AlertRuleOut.model_validate(row, from_attributes=True)


def list_rules(*, session: Session, deployment: str | None = None) -> list[AlertRuleOut]:
    """Rules, optionally of one deployment."""
    stmt = select(AlertRule).order_by(AlertRule.id)
    if deployment:
        stmt = stmt.where(AlertRule.deployment == deployment)
    return [AlertRuleOut.model_validate(r, from_attributes=True) for r in session.scalars(stmt)]


def get_rule(*, session: Session, rule_id: int) -> AlertRule:
    """One rule or ``NotFound``."""
    row = session.get(AlertRule, rule_id)
    if row is None:
        raise NotFound(f"alert rule {rule_id} not found", field="rule_id")
    return row


def delete_rule(*, session: Session, rule_id: int) -> None:
    """Delete a rule and its alerts."""
    session.delete(get_rule(session=session, rule_id=rule_id))


def list_alerts(*, session: Session, deployment: str | None = None,
                status: str | None = None) -> list[AlertOut]:
    """Alerts, newest first."""
    stmt = select(Alert).order_by(Alert.id.desc()).limit(1000)
    if deployment:
        stmt = stmt.where(Alert.deployment == deployment)
    if status:
        stmt = stmt.where(Alert.status == status)
    return [AlertOut.model_validate(a, from_attributes=True) for a in session.scalars(stmt)]


def get_alert(*, session: Session, alert_id: int) -> Alert:
    """One alert or ``NotFound``."""
    row = session.get(Alert, alert_id)
    if row is None:
        raise NotFound(f"alert {alert_id} not found", field="alert_id")
    return row


def resolve(*, session: Session, alert_id: int, actor: str, note: str | None = None
            ) -> AlertOut:
    """Close an open alert (a later breach opens a new one)."""
    row = get_alert(session=session, alert_id=alert_id)
    if row.status != "open":
        raise Conflict(f"alert {alert_id} is already {row.status}", field="alert_id")
    _close(session, row, actor, note)
    return AlertOut.model_validate(row, from_attributes=True)


def _close(session: Session, row: Alert, actor: str, note: str | None) -> None:
    row.status, row.open_key, row.resolved_at = "resolved", None, utcnow()
    row.resolved_by, row.note = actor, note
    session.flush()
    deliver(session, "monitoring.alert.resolved", _payload(row, None))


def deliver(session: Session, event: str, data: dict[str, Any]) -> int:
    """Enqueue a signed webhook event in the caller's transaction (governance's outbox)."""
    from steward.webhooks import enqueue

    return enqueue(session, event, data)


def _payload(alert: Alert, rule: AlertRule | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "alert_id": alert.id, "rule_id": alert.rule_id, "deployment": alert.deployment,
        "scope": alert.scope, "metric": alert.metric, "value": alert.value,
        "threshold": alert.threshold, "status": alert.status, "retrain": alert.retrain,
        "opened_at": alert.opened_at.isoformat()}
    if rule is not None:
        data.update(rule=rule.name, comparator=rule.comparator, window=rule.window,
                    description=rule.description)
    return data


def _report(session: Session, layouts: Layouts, rule: AlertRule) -> Report:
    kind = METRICS[rule.metric][0]
    window = make_window(rule.window, None)
    dep = rule.deployment
    if kind == "drift":
        return service.drift(session=session, layouts=layouts, deployment=dep, window=window,
                             version=rule.version)
    if kind == "quality":
        return service.quality(session=session, layouts=layouts, deployment=dep,
                               window=window, version=rule.version)
    if kind == "performance":
        return service.performance(session=session, layouts=layouts, deployment=dep,
                                   window=window)
    return service.fairness(session=session, layouts=layouts, deployment=dep, window=window)


def evaluate_rule(session: Session, layouts: Layouts, rule: AlertRule) -> list[int]:
    """Evaluate one rule now; returns the ids of alerts it opened."""
    opened = []
    report = _report(session, layouts, rule)
    compare = _COMPARE[rule.comparator]
    now = utcnow()
    for scope, value in METRICS[rule.metric][1](report):
        if rule.feature is not None and scope.get("feature") != rule.feature:
            continue
        full = {"version": rule.version, **scope}
        key = f"{rule.id}|{full.get('version') or ''}|{full.get('feature') or ''}"
        firing = value is not None and compare(float(value), rule.threshold)
        current = session.scalar(select(Alert).where(Alert.open_key == key))
        if current is not None:
            if firing:
                current.value, current.last_seen_at = float(value), now  # type: ignore[arg-type]
            elif rule.auto_resolve:
                _close(session, current, "steward", "condition cleared")
        elif firing:
            alert = Alert(rule_id=rule.id, open_key=key, deployment=rule.deployment, scope=full,
                          metric=rule.metric, value=float(value),  # type: ignore[arg-type]
                          threshold=rule.threshold, status="open", retrain=rule.retrain,
                          opened_at=now, last_seen_at=now)
            session.add(alert)
            session.flush()
            deliver(session, "monitoring.alert.opened", _payload(alert, rule))
            opened.append(alert.id)
    return opened


def evaluate_all(factory: sessionmaker[Session], layouts: Layouts) -> list[int]:
    """Evaluate every enabled rule, each in its own transaction; errors are logged."""
    with factory() as session:
        ids = list(session.scalars(select(AlertRule.id).where(AlertRule.enabled.is_(True))))
    opened: list[int] = []
    for rule_id in ids:
        try:
            with factory() as session, session.begin():
                rule = session.get(AlertRule, rule_id)
                if rule is not None:
                    opened += evaluate_rule(session, layouts, rule)
        except Exception as exc:  # one broken rule must not stop the others
            log.warning("alert rule %s failed: %s: %s", rule_id, exc.__class__.__name__, exc)
    return opened

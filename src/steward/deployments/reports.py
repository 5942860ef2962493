"""Shadow agreement and A/B experiment reports, computed from the prediction log."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steward.deployments.service import get_deployment
from steward.predictions.tables import Feedback, PredictionRecord
from steward.stats.significance import two_proportion_ztest, welch_ttest

PRIMARY = ("champion", "canary")


def shadow_report(*, session: Session, name: str, limit: int = 10_000) -> dict[str, Any]:
    """Per shadow version: agreement with the answer served, mean |Δ| of scores, latencies."""
    get_deployment(session=session, name=name)
    rows = session.execute(
        select(PredictionRecord.request_id, PredictionRecord.route, PredictionRecord.model,
               PredictionRecord.version, PredictionRecord.outputs,
               PredictionRecord.latency_ms, PredictionRecord.error)
        .where(PredictionRecord.deployment == name,
               PredictionRecord.route.in_((*PRIMARY, "shadow")))
        .order_by(PredictionRecord.id.desc()).limit(limit)).all()
    primary: dict[str, tuple[dict[str, Any] | None, float]] = {}
    shadows: dict[str, list[tuple[str, dict[str, Any] | None, float, str | None]]] = \
        defaultdict(list)
    for rid, route, model, version, outputs, latency, error in rows:
        if route == "shadow":
            shadows[f"{model}:{version}"].append((rid, outputs, latency, error))
        else:
            primary[rid] = (outputs, latency)
    report = []
    for label, items in sorted(shadows.items()):
        agree, errors, compared = 0.0, 0, 0
        diffs: list[float] = []
        lat_s: list[float] = []
        lat_p: list[float] = []
        for rid, outputs, latency, error in items:
            if error or outputs is None:
                errors += 1
                continue
            if rid not in primary or primary[rid][0] is None:
                continue
            served, served_latency = primary[rid]
            assert served is not None
            compared += 1
            same, diff = _compare(served, outputs)
            agree += same
            diffs.append(diff)
            lat_s.append(latency)
            lat_p.append(served_latency)
        report.append({
            "shadow": label, "compared": compared, "errors": errors,
            "agreement_rate": agree / compared if compared else None,
            "mean_abs_diff": float(np.mean(diffs)) if diffs else None,
            "shadow_latency_ms": _percentiles(lat_s), "served_latency_ms": _percentiles(lat_p)})
    return {"deployment": name, "shadows": report}


def ab_report(*, session: Session, name: str, alpha: float = 0.05) -> dict[str, Any]:
    """Per-arm outcomes from feedback and a significance test of challenger vs champion.

    Outcome per request: the business `outcome` if posted, else correctness (label == served
    label) for classifiers or −|error| for regressors. Binary outcomes use the two-proportion
    z-test; continuous ones Welch's t-test.
    """
    deployment = get_deployment(session=session, name=name)
    rows = session.execute(
        select(PredictionRecord.route, PredictionRecord.model, PredictionRecord.version,
               PredictionRecord.outputs, Feedback.row, Feedback.label, Feedback.value,
               Feedback.outcome)
        .join(Feedback, Feedback.request_id == PredictionRecord.request_id)
        .where(PredictionRecord.deployment == name, PredictionRecord.route.in_(PRIMARY))).all()
    counts = _arm_counts(session, name)
    values: dict[str, list[float]] = {"champion": [], "canary": []}
    versions: dict[str, str] = {}
    for route, model, version, outputs, row, label, value, outcome in rows:
        versions.setdefault(route, f"{model}:{version}")
        score = _outcome(outputs or {}, row, label, value, outcome)
        if score is not None:
            values[route].append(score)
    a, b = np.asarray(values["champion"]), np.asarray(values["canary"])
    binary = bool(np.isin(np.concatenate([a, b]), (0.0, 1.0)).all()) if a.size + b.size else True
    if binary:
        test = two_proportion_ztest(int(a.sum()), int(a.size), int(b.sum()), int(b.size),
                                    alpha=alpha)
    else:
        test = welch_ttest(a, b, alpha=alpha)
    arms = {route: {"version": versions.get(route), "requests": counts.get(route, 0),
                    "with_feedback": int(arr.size),
                    "mean_outcome": float(arr.mean()) if arr.size else None}
            for route, arr in (("champion", a), ("canary", b))}
    return {"deployment": name, "mode": deployment.mode, "arms": arms,
            "outcome": "binary" if binary else "continuous", "alpha": alpha,
            "test": test.as_dict()}


def _arm_counts(session: Session, name: str) -> dict[str, int]:
    return {route: int(n) for route, n in session.execute(
        select(PredictionRecord.route, func.count())
        .where(PredictionRecord.deployment == name, PredictionRecord.route.in_(PRIMARY))
        .group_by(PredictionRecord.route)).all()}


def _outcome(outputs: dict[str, Any], row: int, label: str | None, value: float | None,
             outcome: float | None) -> float | None:
    if outcome is not None:
        return float(outcome)
    if label is not None and "label" in outputs and row < len(outputs["label"]):
        return 1.0 if str(outputs["label"][row]) == str(label) else 0.0
    if value is not None and "prediction" in outputs and row < len(outputs["prediction"]):
        return -abs(float(outputs["prediction"][row]) - value)
    return None


def _compare(served: dict[str, Any], shadow: dict[str, Any]) -> tuple[float, float]:
    """(share of rows with the same label/prediction, mean |Δ| of scores) for one request."""
    if "label" in served and "label" in shadow:
        same = np.mean([str(x) == str(y) for x, y in zip(served["label"], shadow["label"],
                                                          strict=False)])
        p = np.asarray(served.get("probabilities") or [[0.0]], dtype=float)
        q = np.asarray(shadow.get("probabilities") or [[0.0]], dtype=float)
        diff = float(np.abs(p - q).mean()) if p.shape == q.shape else float("nan")
        return float(same), diff
    p = np.asarray(served.get("prediction", []), dtype=float)
    q = np.asarray(shadow.get("prediction", []), dtype=float)
    diff = float(np.abs(p - q).mean()) if p.shape == q.shape and p.size else float("nan")
    return float(diff < 1e-9), diff


def _percentiles(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    arr = np.asarray(values)
    return {"p50": float(np.percentile(arr, 50)), "p95": float(np.percentile(arr, 95)),
            "mean": float(arr.mean())}

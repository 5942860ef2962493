"""Serving and model-quality metrics over NumPy arrays (pure; sklearn for the classics).

Serving (from aggregates): latency percentiles from the log-spaced histogram (see
``aggregates``), throughput = requests / window minutes, error rate = errored requests /
requests, fallback rate = fallback requests / requests.

Quality (from predictions joined with feedback):

- classifiers: accuracy; precision, recall, F1 of the positive class for two classes (the
  contract's second class unless configured), macro averages otherwise; ROC AUC from the
  positive-class probability (one-vs-rest macro for more classes); Brier score
  ``mean_i sum_k (p_ik - y_ik)^2 / K'`` with ``K' = 1`` for two classes (positive class only,
  sklearn's definition) and the full sum otherwise; reliability: 10 equal-width bins of the
  positive-class probability (top-class confidence for more classes) with the mean
  predicted value and the observed frequency in each.
- regressors: MAE ``mean|y - yhat|``, RMSE ``sqrt(mean (y - yhat)^2)``, bias ``mean(yhat - y)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from steward.monitoring.aggregates import SCALARS, Aggregate, Layout, latency_percentile

RELIABILITY_BINS = 10


def serving(agg: Aggregate, layout: Layout, minutes: float) -> dict[str, Any]:
    """Requests, rows, error/fallback rates, latency percentiles and throughput."""
    requests = agg.scalar("requests")
    hist = agg.counts[layout.latency]
    out: dict[str, Any] = {k: agg.scalar(k) for k in SCALARS}
    out.update(error_rate=agg.scalar("errors") / requests if requests else None,
               fallback_rate=agg.scalar("fallbacks") / requests if requests else None,
               latency_mean_ms=float(agg.sums[0]) / requests if requests else None,
               latency_p50_ms=latency_percentile(hist, 0.50),
               latency_p90_ms=latency_percentile(hist, 0.90),
               latency_p99_ms=latency_percentile(hist, 0.99),
               throughput_per_min=requests / minutes if minutes else None)
    return out


def classification(y_true: Sequence[str], y_pred: Sequence[str],
                   proba: npt.NDArray[np.float64] | None, classes: Sequence[str],
                   positive: str | None = None) -> dict[str, Any]:
    """Accuracy, precision, recall, F1, ROC AUC, Brier and reliability bins."""
    from sklearn import metrics as skm

    yt, yp = np.asarray(y_true, dtype=str), np.asarray(y_pred, dtype=str)
    n = int(yt.size)
    out: dict[str, Any] = {"n": n, "accuracy": None, "precision": None, "recall": None,
                           "f1": None, "roc_auc": None, "brier": None, "reliability": []}
    if n == 0:
        return out
    labels = list(classes) or sorted(set(yt) | set(yp))
    binary = len(labels) == 2
    pos = positive if positive in labels else labels[-1]
    avg: dict[str, Any] = ({"average": "binary", "pos_label": pos} if binary
                           else {"average": "macro", "labels": labels})
    out["accuracy"] = float(skm.accuracy_score(yt, yp))
    out["precision"] = float(skm.precision_score(yt, yp, zero_division=0.0, **avg))
    out["recall"] = float(skm.recall_score(yt, yp, zero_division=0.0, **avg))
    out["f1"] = float(skm.f1_score(yt, yp, zero_division=0.0, **avg))
    if proba is None or proba.shape != (n, len(labels)) or not np.isfinite(proba).all():
        return out
    onehot = (yt[:, None] == np.asarray(labels)[None, :]).astype(np.float64)
    if binary:
        p, y = proba[:, labels.index(pos)], onehot[:, labels.index(pos)]
        out["brier"] = float(np.mean((p - y) ** 2))
        if 0 < y.sum() < n:
            out["roc_auc"] = float(skm.roc_auc_score(y, p))
        out["reliability"] = reliability(p, y)
    else:
        out["brier"] = float(np.mean(np.sum((proba - onehot) ** 2, axis=1)))
        present = onehot.sum(axis=0) > 0
        if present.sum() >= 2 and present.all():
            norm = proba / proba.sum(axis=1, keepdims=True)
            out["roc_auc"] = float(skm.roc_auc_score(yt, norm, multi_class="ovr",
                                                     labels=labels, average="macro"))
        top = proba.argmax(axis=1)
        out["reliability"] = reliability(proba.max(axis=1),
                                         (np.asarray(labels)[top] == yt).astype(np.float64))
    return out


def reliability(p: npt.NDArray[np.float64], y: npt.NDArray[np.float64],
                bins: int = RELIABILITY_BINS) -> list[dict[str, Any]]:
    """Equal-width probability bins: count, mean predicted probability, observed frequency."""
    idx = np.minimum((np.clip(p, 0.0, 1.0) * bins).astype(np.intp), bins - 1)
    out = []
    for b in range(bins):
        sel = idx == b
        k = int(sel.sum())
        out.append({"lower": b / bins, "upper": (b + 1) / bins, "count": k,
                    "mean_predicted": float(p[sel].mean()) if k else None,
                    "observed": float(y[sel].mean()) if k else None})
    return out


def regression(y_true: npt.NDArray[np.float64], y_pred: npt.NDArray[np.float64]
               ) -> dict[str, Any]:
    """MAE, RMSE and mean bias of predictions against true values."""
    ok = np.isfinite(y_true) & np.isfinite(y_pred)
    err = y_pred[ok] - y_true[ok]
    n = int(err.size)
    return {"n": n, "mae": float(np.abs(err).mean()) if n else None,
            "rmse": math.sqrt(float(np.square(err).mean())) if n else None,
            "bias": float(err.mean()) if n else None}

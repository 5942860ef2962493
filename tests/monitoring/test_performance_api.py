"""Live performance: serving metrics from aggregates, quality from posted feedback."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from steward.client import Client
from steward.state import AppState
from tests.monitoring.conftest import CLASSES, flush


def test_feedback_gives_accuracy_auc_calibration(
        admin: Client, cancer_dep: str, cancer: pd.DataFrame, cancer_features: pd.DataFrame,
        send: Callable[..., list[str]], state: AppState) -> None:
    ids = send(cancer_dep, cancer_features, batch=50)
    flush(state)
    before = admin.performance(cancer_dep, window="1h")
    assert before["quality"]["n"] == 0 and before["quality"]["accuracy"] is None
    serving = {(s["version"], s["route"]): s for s in before["serving"]}
    total = serving[("*", "*")]
    assert total["requests"] == 12 and total["rows"] == 569 and total["error_rate"] == 0
    assert serving[("cancer:1", "champion")]["requests"] == 12
    assert 0 < total["latency_p50_ms"] <= total["latency_p90_ms"] <= total["latency_p99_ms"]

    truth = [CLASSES[int(t)] for t in cancer["target"]]
    items, pred, proba, y = [], [], [], []
    for k, rid in enumerate(ids):
        logged = admin.get_prediction(rid)[0]["outputs"]
        for row in range(len(logged["label"])):
            i = 50 * k + row
            if i % 3:  # feedback for two thirds of the rows
                items.append({"request_id": rid, "row": row, "label": truth[i]})
                pred.append(logged["label"][row])
                proba.append(logged["probabilities"][row][1])
                y.append(truth[i] == "benign")
    admin.feedback_bulk(items)
    q = admin.performance(cancer_dep, window="1h")["quality"]
    assert q["n"] == len(items)
    assert q["accuracy"] == skm.accuracy_score([i["label"] for i in items], pred)
    assert abs(q["roc_auc"] - skm.roc_auc_score(y, proba)) < 1e-12
    assert abs(q["brier"] - skm.brier_score_loss(y, proba)) < 1e-12
    assert abs(q["f1"] - skm.f1_score([i["label"] for i in items], pred,
                                      pos_label="benign")) < 1e-12
    assert sum(b["count"] for b in q["reliability"]) == len(items)
    # Same numbers from the last-N window; series points carry per-step metrics.
    perf = admin.performance(cancer_dep, last=569, step=60)
    assert perf["quality"]["accuracy"] == q["accuracy"]
    assert sum(p["n"] for p in perf["series"]) == len(items)
    assert np.isclose(sum(p.get("requests", 0) for p in perf["series"]), 12)

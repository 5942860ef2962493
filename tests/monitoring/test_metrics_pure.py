"""Performance, fairness and silent-failure functions against sklearn and hand values."""

from __future__ import annotations

import math

import numpy as np
from sklearn import metrics as skm

from steward.monitoring import checks
from steward.monitoring.fairness import group_fairness
from steward.monitoring.performance import classification, regression, reliability
from steward.monitoring.schemas import MonitoringConfig, parse_duration


def test_binary_classification_matches_sklearn() -> None:
    rng = np.random.default_rng(5)
    y = rng.choice(["no", "yes"], 300)
    p = np.clip((y == "yes") * 0.3 + rng.random(300) * 0.7, 0, 1)
    pred = np.where(p > 0.5, "yes", "no")
    out = classification(list(y), list(pred), np.c_[1 - p, p], ["no", "yes"])
    assert out["accuracy"] == skm.accuracy_score(y, pred)
    assert out["f1"] == skm.f1_score(y, pred, pos_label="yes")
    assert math.isclose(out["roc_auc"], skm.roc_auc_score(y == "yes", p))
    assert math.isclose(out["brier"], skm.brier_score_loss(y == "yes", p))
    assert sum(b["count"] for b in out["reliability"]) == 300


def test_multiclass_and_empty() -> None:
    y = ["a", "b", "c", "a"]
    proba = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4], [0.1, 0.8, 0.1]])
    out = classification(y, ["a", "b", "c", "b"], proba, ["a", "b", "c"])
    assert out["accuracy"] == 0.75
    onehot = np.eye(3)[[0, 1, 2, 0]]
    assert math.isclose(out["brier"], float(np.mean(np.sum((proba - onehot) ** 2, axis=1))))
    assert math.isclose(out["roc_auc"], skm.roc_auc_score(y, proba, multi_class="ovr"))
    assert classification([], [], None, ["a", "b"])["accuracy"] is None


def test_reliability_and_regression_hand_values() -> None:
    bins = reliability(np.array([0.05, 0.15, 0.95, 1.0]), np.array([0.0, 1.0, 1.0, 0.0]))
    assert [b["count"] for b in bins] == [1, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    assert bins[9]["mean_predicted"] == 0.975 and bins[9]["observed"] == 0.5
    r = regression(np.array([1.0, 2.0, 3.0, np.nan]), np.array([2.0, 2.0, 1.0, 5.0]))
    assert r == {"n": 3, "mae": 1.0, "rmse": math.sqrt(5 / 3), "bias": -1 / 3}


def test_group_fairness_hand_values() -> None:
    g = np.array(["a"] * 4 + ["b"] * 4)
    sel = np.array([1, 1, 0, 0, 1, 0, 0, 0], bool)
    truth = np.array([1, 0, 1, 0, 1, 1, 0, np.nan])
    out = group_fairness(g, sel, truth)
    assert out["groups"]["a"]["selection_rate"] == 0.5
    assert out["groups"]["b"]["selection_rate"] == 0.25
    assert out["demographic_parity_difference"] == 0.25
    # a: TPR 1/2, FPR 1/2; b: TPR 1/2, FPR 0 -> EOD = 0.5
    assert out["equalized_odds_difference"] == 0.5 and out["n_with_truth"] == 7


def test_silent_failure_rules() -> None:
    cfg = MonitoringConfig(min_rows=10)
    outputs = [{"output": "label", "kind": "categorical", "rows": 50, "top": "x",
                "top_share": 0.995, "reference_top_share": 0.6},
               {"output": "p", "kind": "numeric", "rows": 50, "std": 0.01,
                "reference_std": 0.2},
               {"output": "q", "kind": "numeric", "rows": 5, "std": 0.0, "reference_std": 1.0}]
    got = {(c["check"], c["target"]): c["status"] for c in checks.silent_failures(
        [{"feature": "f", "completeness": 0.9}], outputs, 0.3, 0.1, cfg)}
    assert got == {("completeness", "f"): "fail", ("constant_output", "label"): "fail",
                   ("variance_collapse", "p"): "fail", ("fallback_spike", "fallback_rate"): "fail"}
    calm = checks.silent_failures([], [{**outputs[0], "reference_top_share": 0.995}],
                                  0.15, 0.1, cfg)
    assert {c["status"] for c in calm} == {"ok"}


def test_config_rule_resolution_and_durations() -> None:
    cfg = MonitoringConfig(method="psi", threshold=0.3,
                           features={"a": {"method": "ks"}, "b": {"threshold": 0.5}})
    assert (cfg.rule("a").method, cfg.rule("a").threshold) == ("ks", None)
    assert (cfg.rule("b").method, cfg.rule("b").threshold) == ("psi", 0.5)
    assert (cfg.rule("c").method, cfg.rule("c").threshold) == ("psi", 0.3)
    assert parse_duration("90m").total_seconds() == 5400

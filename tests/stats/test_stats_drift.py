"""Drift decisions: documented PSI formula, defaults, thresholds, edge cases, reports."""

from __future__ import annotations

import json

import numpy as np
import pytest

from steward.errors import InvalidInput
from steward.stats import (
    STATISTICS,
    bin_counts,
    build_profile,
    build_profiles,
    dataset_drift,
    default_test,
    drift_report,
    feature_drift,
)


def documented_psi(ref: np.ndarray, cur: np.ndarray, eps: float = 1e-4) -> float:
    """The PSI formula as documented, written plainly (no profile, no fast binning)."""
    edges = np.quantile(ref, np.linspace(0, 1, 101))[::10]  # reference deciles
    def masses(x: np.ndarray) -> np.ndarray:
        inside, _ = np.histogram(x, bins=edges)  # [d_i, d_i+1), last bin closed
        m = np.concatenate([[np.sum(x < edges[0])], inside, [np.sum(x > edges[-1])]])
        p = np.maximum(m / m.sum(), eps)
        return p / p.sum()
    c, r = masses(cur), masses(ref)
    return float(np.sum((c - r) * np.log(c / r)))


@pytest.mark.parametrize("shift", [0.0, 0.1, 1.0, 5.0])
def test_psi_matches_documented_formula(shift: float) -> None:
    rng = np.random.default_rng(11)
    ref, cur = rng.standard_normal(100_000), rng.normal(shift, 1, 50_000)
    p = build_profile(ref)
    r = feature_drift(p, bin_counts(cur, p), method="psi")
    assert abs(r.value - documented_psi(ref, cur)) <= 1e-9


def test_defaults() -> None:
    assert default_test("numeric", 1_000) == "ks"
    assert default_test("numeric", 1_001) == "psi"
    assert default_test("categorical", 500) == "chisquare"
    assert default_test("categorical", 5_000) == "jensenshannon"
    with pytest.raises(InvalidInput):
        default_test("text", 10)
    assert {k: v.threshold for k, v in STATISTICS.items()} == {
        "psi": 0.2, "kl": 0.1, "jensenshannon": 0.1, "ks": 0.05, "wasserstein": 0.1,
        "chisquare": 0.05}


def test_every_numeric_statistic_sees_a_large_shift_and_not_none() -> None:
    rng = np.random.default_rng(12)
    p = build_profile(rng.standard_normal(50_000))
    same, moved = rng.standard_normal(800), rng.normal(1.5, 1, 800)
    for method in ("psi", "kl", "jensenshannon", "ks", "wasserstein"):
        assert not feature_drift(p, bin_counts(same, p), method=method).drifted, method
        assert feature_drift(p, bin_counts(moved, p), method=method).drifted, method


def test_threshold_override_and_bad_method() -> None:
    rng = np.random.default_rng(13)
    p = build_profile(rng.standard_normal(10_000))
    counts = bin_counts(rng.normal(0.1, 1, 5_000), p)
    r = feature_drift(p, counts, method="psi", threshold=0.001)
    assert r.drifted and r.threshold == 0.001 and set(r.statistics) == {
        "psi", "kl", "jensenshannon", "ks_statistic", "ks_pvalue", "wasserstein",
        "missing_rate"}
    with pytest.raises(InvalidInput):
        feature_drift(p, counts, method="chisquare")
    with pytest.raises(InvalidInput):
        feature_drift(p, counts, method="nope")


def test_values_outside_reference_range() -> None:
    p = build_profile(np.random.default_rng(14).uniform(0, 1, 10_000))
    r = feature_drift(p, bin_counts(np.full(2_000, 3.0), p))
    assert r.method == "psi" and r.drifted and r.value > 5
    assert r.statistics["ks_statistic"] == pytest.approx(1.0)
    assert r.statistics["ks_pvalue"] < 1e-100


def test_categorical_unseen_categories() -> None:
    rng = np.random.default_rng(15)
    p = build_profile(rng.choice(["a", "b", "c"], 5_000, p=[0.5, 0.3, 0.2]))
    same = feature_drift(p, bin_counts(rng.choice(["a", "b", "c"], 500, p=[0.5, 0.3, 0.2]), p))
    assert same.method == "chisquare" and not same.drifted
    assert "chisquare_statistic" in same.statistics
    new = np.concatenate([rng.choice(["a", "b", "c"], 450), np.array(["x", "y"] * 25)])
    r = feature_drift(p, bin_counts(new, p))
    assert r.drifted and r.value < 1e-10
    assert feature_drift(p, bin_counts(new, p), method="psi").drifted


def test_empty_window_is_undefined_not_drift() -> None:
    p = build_profile(np.arange(100.0))
    r = feature_drift(p, bin_counts(np.full(10, np.nan), p))
    assert not r.drifted and np.isnan(r.value) and r.missing_rate == 1.0
    json.dumps(r.as_dict(), allow_nan=False)


def test_dataset_drift_share() -> None:
    p = build_profile(np.arange(100.0))
    yes = feature_drift(p, bin_counts(np.full(50, 500.0), p))
    no = feature_drift(p, bin_counts(np.arange(100.0), p))
    assert dataset_drift([yes, no]) and not dataset_drift([yes, no, no])
    assert dataset_drift([yes, no, no], share=0.3) and not dataset_drift([])


def test_drift_report() -> None:
    rng = np.random.default_rng(16)
    ref = {"x": rng.standard_normal(5_000), "c": rng.choice(["u", "v"], 5_000)}
    cur = {"x": rng.normal(2, 1, 2_000), "c": rng.choice(["u", "v"], 2_000), "extra": ref["x"]}
    profs = build_profiles(ref)
    rep = drift_report(profs, cur)
    assert [r.feature for r in rep] == ["x", "c"]
    assert rep[0].drifted and not rep[1].drifted
    assert drift_report(profs, cur, workers=2) == rep
    with pytest.raises(InvalidInput):
        drift_report(profs, {"x": cur["x"]})

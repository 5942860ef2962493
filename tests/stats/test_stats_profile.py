"""Reference profiles: layout, ties, constant and all-missing columns, JSON round-trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from steward.errors import InvalidInput
from steward.stats import bin_counts, build_profile, build_profiles, feature_drift, infer_kind
from steward.stats.profile import OTHER


def test_numeric_layout_and_json_round_trip() -> None:
    x = np.random.default_rng(0).standard_normal(10_000)
    x[:100] = np.nan
    p = build_profile(x)
    assert p["kind"] == "numeric" and p["version"] == 1
    assert p["count"] == 9_900 and p["missing_count"] == 100 and p["missing_rate"] == 0.01
    q = p["quantiles"]
    assert len(q) == 101 and q[0] == p["min"] and q[-1] == p["max"]
    assert np.all(np.diff(q) > 0)
    assert set(p["bin_edges"]) <= set(q) and len(p["bin_edges"]) == 11
    assert len(p["fine_proportions"]) == 100 and len(p["bin_proportions"]) == 10
    assert sum(p["fine_proportions"]) == pytest.approx(1.0)
    assert p["bin_proportions"] == pytest.approx([0.1] * 10, abs=2e-4)
    assert p["mean"] == pytest.approx(np.nanmean(x)) and p["std"] == pytest.approx(np.nanstd(x))
    back = json.loads(json.dumps(p, allow_nan=False))
    assert back == p
    cur = np.random.default_rng(1).normal(0.3, 1.0, 5_000)
    r1 = feature_drift(p, bin_counts(cur, p))
    r2 = feature_drift(back, bin_counts(cur, back))
    assert r1 == r2


def test_ties_collapse_edges_and_keep_true_masses() -> None:
    x = np.concatenate([np.zeros(7_000), np.arange(1, 3_001, dtype=float)])
    p = build_profile(x)
    q = p["quantiles"]
    assert np.all(np.diff(q) > 0) and q[0] == 0.0
    fine = p["fine_proportions"]
    assert len(fine) == len(q) - 1
    assert q[1] == pytest.approx(0.3)  # 70% point interpolates between 0 and 1
    assert fine[0] == pytest.approx(0.7)  # exactly the zeros, in [0, 0.3)
    assert sum(fine) == pytest.approx(1.0)
    assert sum(p["bin_proportions"]) == pytest.approx(1.0)
    # Rebinning the reference reproduces the stored masses exactly.
    assert (bin_counts(x, p)[1:-2] / x.size).tolist() == fine


def test_constant_column() -> None:
    p = build_profile(np.full(1_000, 5.0))
    assert p["quantiles"] == [5.0] and p["bin_edges"] == [5.0]
    assert p["fine_proportions"] == [1.0] and p["bin_proportions"] == [1.0] and p["std"] == 0.0
    counts = bin_counts(np.array([4.0, 5.0, 5.0, 6.0, np.nan]), p)
    assert counts.tolist() == [1, 2, 1, 1]
    same = feature_drift(p, bin_counts(np.full(500, 5.0), p), method="psi")
    assert same.value == pytest.approx(0.0, abs=1e-12) and not same.drifted
    moved = feature_drift(p, bin_counts(np.full(500, 6.0), p))
    assert moved.drifted and moved.statistics["wasserstein"] == 0.0


def test_all_missing_column() -> None:
    p = build_profile(np.full(100, np.nan))
    assert p["count"] == 0 and p["missing_rate"] == 1.0
    assert p["quantiles"] == [] and p["min"] is None
    json.dumps(p, allow_nan=False)
    counts = bin_counts(np.array([1.0, np.nan]), p)
    assert counts.tolist() == [0, 1, 1]
    r = feature_drift(p, counts)
    assert np.isnan(r.value) and not r.drifted
    assert r.as_dict()["value"] is None
    json.dumps(r.as_dict(), allow_nan=False)


def test_infinities_count_as_missing() -> None:
    p = build_profile(np.array([1.0, 2.0, np.inf, -np.inf, 3.0]))
    assert p["count"] == 3 and p["missing_count"] == 2 and p["max"] == 3.0


def test_categorical_top_and_other() -> None:
    values = np.array([f"c{i:03d}" for i in range(150)] * 2 + ["a"] * 50 + [None] * 10,
                      dtype=object)
    p = build_profile(values)
    assert p["kind"] == "categorical" and p["count"] == 350 and p["missing_count"] == 10
    f = p["frequencies"]
    assert len(f) == 101 and f["a"] == pytest.approx(50 / 350)
    # 149 categories tie at 2 counts; the 99 first by name are kept, the rest are "other".
    assert "c098" in f and "c099" not in f
    assert f[OTHER] == pytest.approx(51 * 2 / 350)
    assert sum(f.values()) == pytest.approx(1.0)
    assert json.loads(json.dumps(p)) == p


def test_kind_inference() -> None:
    assert infer_kind(np.array([1, 2])) == "numeric"
    assert infer_kind(np.array([1.0], dtype=np.float32)) == "numeric"
    assert infer_kind(np.array([True])) == "categorical"
    assert infer_kind(np.array(["a"])) == "categorical"
    assert infer_kind(np.array(["a", None], dtype=object)) == "categorical"
    with pytest.raises(InvalidInput):
        infer_kind(np.array(["2024-01-01"], dtype="datetime64[D]"))
    with pytest.raises(InvalidInput):
        build_profile(np.array([1.0]), kind="text")


def test_forced_kinds() -> None:
    p = build_profile(np.array([1.5, None, 2.5], dtype=object), kind="numeric")
    assert p["count"] == 2 and p["missing_count"] == 1
    c = build_profile(np.array([1, 1, 2]), kind="categorical")
    assert c["frequencies"] == {"1": 2 / 3, "2": 1 / 3}
    profs = build_profiles({"a": np.array([1.0, 2.0]), "b": np.array(["x", "y"])},
                           kinds={"a": "categorical"})
    assert profs["a"]["kind"] == "categorical" and profs["b"]["kind"] == "categorical"

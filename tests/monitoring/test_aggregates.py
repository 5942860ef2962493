"""Pure aggregate folding: counts equal the stats package's, additivity, quality counters."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from steward.monitoring.aggregates import (
    LATENCY_EDGES_MS,
    Layout,
    aggregate,
    fold,
    latency_percentile,
)
from steward.monitoring.windows import _clip
from steward.stats import bin_counts, build_profiles

RNG = np.random.default_rng(11)
X = RNG.normal(size=400)
C = RNG.choice(["a", "b", "c"], size=400)
PROFILE = {"features": build_profiles({"x": X, "c": C}),
           "outputs": build_profiles({"label": np.array(["n", "p"] * 200),
                                      "probability:p": RNG.random(400)})}
CONTRACT = {"features": [{"name": "x", "dtype": "float", "min": -3.0, "max": 3.0},
                         {"name": "c", "dtype": "string", "categories": ["a", "b", "c"]}],
            "outputs": [{"name": "label", "dtype": "string"},
                        {"name": "probabilities", "dtype": "float", "classes": ["n", "p"]}]}
LAYOUT = Layout(CONTRACT, PROFILE)


def rec(x: list[Any], c: list[Any], ts: float = 120.0, **kw: Any) -> dict[str, Any]:
    n = len(x)
    p = [float(v) for v in RNG.random(n)]
    return {"deployment": "d", "version_id": 1, "route": "champion", "ts": ts, "rows": n,
            "inputs": {"x": x, "c": c}, "latency_ms": kw.pop("latency_ms", 3.0),
            "outputs": {"label": ["p" if v > 0.5 else "n" for v in p],
                        "probabilities": [[1 - v, v] for v in p]},
            "error": None, "fallback": False, "ood": [], **kw}


def test_counts_match_bin_counts_and_are_additive() -> None:
    cur_x, cur_c = RNG.normal(0.3, 1, 300), RNG.choice(["a", "b", "d"], 300)
    recs = [rec(list(cur_x[i:i + 30]), list(cur_c[i:i + 30]), ts=60.0 * (i // 100))
            for i in range(0, 300, 30)]
    whole = aggregate(recs, LAYOUT)
    fx, fc = LAYOUT.features
    profiles = PROFILE["features"]
    assert np.array_equal(whole.counts[fx.start:fx.stop], bin_counts(cur_x, profiles["x"]))
    assert np.array_equal(whole.counts[fc.start:fc.stop], bin_counts(cur_c, profiles["c"]))
    parts = fold(recs, {1: LAYOUT})
    assert len(parts) == 3  # three minutes
    total = LAYOUT.empty()
    for agg in parts.values():
        total.add(agg)
    assert np.array_equal(total.counts, whole.counts) and np.allclose(total.sums, whole.sums)
    assert total.scalar("requests") == 10 and total.scalar("rows") == 300
    restored = LAYOUT.load(*total.dump())
    assert np.array_equal(restored.counts, total.counts)
    # The probability output's sums give its mean.
    slot = next(s for s in LAYOUT.outputs if s.name == "probability:p")
    probs = [r["outputs"]["probabilities"][i][1] for r in recs for i in range(30)]
    assert np.isclose(total.sums[slot.sums_at] / 300, np.mean(probs))


def test_quality_counters() -> None:
    r = rec([0.1, None, "oops", 9.0, -5.0], ["a", "zz", None, "b", "a"], ood=["x"],
            fallback=True, error="E")
    agg = aggregate([r, rec([0.0], ["c"])], LAYOUT)
    fx, fc = LAYOUT.features
    x_bins, x_q = agg.counts[fx.start:fx.stop], agg.counts[fx.stop:fx.stop + 4]
    assert x_bins[-1] == 2  # None and the unreadable string are missing
    assert list(x_q) == [1, 2, 0, 1]  # type, range (9 and -5), unseen, ood
    assert list(agg.counts[fc.stop:fc.stop + 4]) == [0, 0, 1, 0]  # "zz" unseen
    assert agg.scalar("errors") == 1 and agg.scalar("fallbacks") == 1
    assert agg.scalar("ood_requests") == 1 and agg.scalar("rows") == 6


def test_latency_percentiles_within_one_bucket() -> None:
    lat = np.exp(RNG.normal(2.0, 1.0, 5000))
    recs = [rec([0.0], ["a"], latency_ms=float(v)) for v in lat]
    hist = aggregate(recs, LAYOUT).counts[LAYOUT.latency]
    ratio = LATENCY_EDGES_MS[1] / LATENCY_EDGES_MS[0]
    for q in (0.5, 0.9, 0.99):
        got, want = latency_percentile(hist, q), float(np.quantile(lat, q))
        assert got is not None and want / ratio <= got <= want * ratio
    assert latency_percentile(np.zeros_like(hist), 0.5) is None


def test_clip_keeps_newest_rows() -> None:
    r = {"rows": 5, "inputs": {"x": [1, 2, 3, 4, 5]}, "outputs": {"label": list("abcde")}}
    assert _clip(r, 0, 5, 0, 2) == {"rows": 2, "inputs": {"x": [4, 5]},
                                    "outputs": {"label": ["d", "e"]}}
    assert _clip(r, 0, 5, 2, 4)["inputs"] == {"x": [2, 3]}
    assert _clip(r, 10, 5, 0, 4) is None


def test_layout_mismatch_is_refused() -> None:
    with pytest.raises(ValueError):
        LAYOUT.load(b"\0" * 8, b"\0" * 8)

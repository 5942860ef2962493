"""Binning: layout, exactness of the fast path, additivity."""

from __future__ import annotations

import numpy as np
import pytest

from steward.errors import InvalidInput
from steward.stats import bin_counts, build_profile, empty_counts, feature_drift, merge_counts
from steward.stats.binning import search_edges


def _plain(x: np.ndarray, profile: dict[str, object]) -> np.ndarray:
    """Reference implementation: one searchsorted, NaN/inf counted as missing."""
    edges = search_edges(profile["quantiles"])  # type: ignore[arg-type]
    finite = np.isfinite(x)
    idx = np.searchsorted(edges, x[finite].astype(np.float64), side="right")
    counts = np.bincount(idx, minlength=edges.size + 1)
    return np.append(counts, x.size - finite.sum())


def test_numeric_layout() -> None:
    p = build_profile(np.arange(0.0, 101.0))  # quantiles 0, 1, ..., 100
    assert len(p["quantiles"]) == 101
    x = np.array([-1.0, 0.0, 0.5, 1.0, 99.5, 100.0, 100.0001, np.nan, np.inf, -np.inf])
    c = bin_counts(x, p)
    assert c.size == 100 + 3
    assert c[0] == 1  # below min
    assert c[1] == 2  # [0, 1)
    assert c[2] == 1  # [1, 2)
    assert c[100] == 2  # [99, 100] is closed
    assert c[101] == 1  # above max
    assert c[102] == 3  # NaN, +inf, -inf


RNG = np.random.default_rng(7)
CASES = {
    "normal": (RNG.standard_normal(50_000), RNG.normal(0.3, 1.2, 200_000)),
    "lognormal": (RNG.lognormal(0, 2, 50_000), RNG.lognormal(0.2, 2, 200_000)),
    "cauchy": (RNG.standard_cauchy(50_000), RNG.standard_cauchy(200_000)),
    "discrete": (RNG.poisson(3, 50_000).astype(float), RNG.poisson(3.5, 200_000).astype(float)),
    "huge": (RNG.standard_normal(50_000) * 1e300, RNG.standard_normal(200_000) * 1e305),
    "tiny": (RNG.standard_normal(50_000) * 1e-300, RNG.standard_normal(200_000) * 1e-300),
    "float32": (RNG.standard_normal(50_000).astype(np.float32),
                RNG.normal(0.1, 1, 200_000).astype(np.float32)),
    "int": (RNG.integers(-5, 50, 50_000), RNG.integers(-10, 60, 200_000)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_fast_path_matches_searchsorted(case: str) -> None:
    ref, cur = CASES[case]
    p = build_profile(ref)
    cur = cur.copy()
    if cur.dtype.kind == "f":
        cur[::997] = np.nan
        # Every edge itself and its neighbours are the values most likely to be misbinned.
        q = np.asarray(p["quantiles"])
        cur[: 3 * q.size] = np.concatenate([q, np.nextafter(q, -np.inf), np.nextafter(q, np.inf)])
    got = bin_counts(cur, p)
    assert got.tolist() == _plain(np.asarray(cur, dtype=np.float64), p).tolist()
    assert got.sum() == cur.size


def test_counts_are_additive() -> None:
    rng = np.random.default_rng(3)
    p = build_profile(rng.standard_normal(20_000))
    batches = [rng.normal(0.2, 1, n) for n in (10, 5_000, 40_000)]
    merged = merge_counts(*(bin_counts(b, p) for b in batches))
    whole = bin_counts(np.concatenate(batches), p)
    assert merged.tolist() == whole.tolist()
    assert merge_counts(empty_counts(p), whole).tolist() == whole.tolist()
    assert feature_drift(p, merged) == feature_drift(p, whole)


def test_categorical_layout() -> None:
    p = build_profile(np.array(["b", "a", "a", "c"]))
    c = bin_counts(np.array(["a", "zz", "c", None, "a", np.nan], dtype=object), p)
    assert c.tolist() == [2, 0, 1, 1, 2]  # a, b, c, other, missing
    # Key order does not matter (PostgreSQL JSONB reorders keys).
    shuffled = {**p, "frequencies": dict(reversed(list(p["frequencies"].items())))}
    assert bin_counts(np.array(["a", "c"]), shuffled).tolist() == [1, 0, 1, 0, 0]


def test_wrong_counts_shape() -> None:
    p = build_profile(np.arange(10.0))
    with pytest.raises(InvalidInput):
        feature_drift(p, np.zeros(5, dtype=np.int64))

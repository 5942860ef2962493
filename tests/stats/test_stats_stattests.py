"""Each statistic against SciPy or a value computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from steward.stats import bin_counts, build_profile, feature_drift
from steward.stats import stattests as st


def test_psi_by_hand() -> None:
    # (0.5-0.25)ln(0.5/0.25) + (0.5-0.75)ln(0.5/0.75) = 0.25 ln 2 + 0.25 ln 1.5 = 0.25 ln 3
    assert st.psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(0.25 * math.log(3), abs=1e-15)
    assert st.psi([50, 50], [25, 75]) == pytest.approx(0.25 * math.log(3), abs=1e-15)


def test_psi_empty_bin_epsilon_rule() -> None:
    c = np.array([1e-4, 1.0]) / 1.0001  # [0, 1] floored at 1e-4, renormalised
    r = np.array([0.5, 0.5])
    expected = float(np.sum((c - r) * np.log(c / r)))
    assert st.psi([0, 10], [5, 5]) == pytest.approx(expected, abs=1e-15)
    assert st.psi([0, 0, 3], [0, 0, 1]) == pytest.approx(0.0, abs=1e-15)


def test_kl_matches_scipy_entropy() -> None:
    c, r = np.array([3, 0, 5, 2]), np.array([0.25, 0.25, 0.4, 0.1])
    expected = stats.entropy(st.floor_proportions(c), st.floor_proportions(r))
    assert st.kl_divergence(c, r) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("c, r", [([1, 2, 3], [3, 2, 1]), ([0, 5, 5], [5, 5, 0]),
                                  ([1, 0, 0], [0, 0, 1]), ([2, 2], [1, 1])])
def test_js_matches_scipy(c: list[int], r: list[int]) -> None:
    assert st.js_distance(c, r) == pytest.approx(jensenshannon(c, r, base=2), abs=1e-12)


def test_chi_square_matches_scipy() -> None:
    obs, p = np.array([30, 50, 20]), np.array([0.3, 0.4, 0.3])
    ref = stats.chisquare(obs, f_exp=obs.sum() * p)
    stat, pval = st.chi_square(obs, p)
    assert stat == pytest.approx(ref.statistic, rel=1e-12)
    assert pval == pytest.approx(ref.pvalue, rel=1e-12)


def test_ks_exact_bins_match_scipy() -> None:
    # One bin per distinct pooled value: the binned CDFs are the ECDFs, so D and the
    # asymptotic p-value must equal ks_2samp's.
    rng = np.random.default_rng(5)
    a, b = rng.normal(0, 1, 300), rng.normal(0.3, 1, 200)
    grid = np.unique(np.concatenate([a, b]))
    ca = np.bincount(np.searchsorted(grid, a), minlength=grid.size)
    cb = np.bincount(np.searchsorted(grid, b), minlength=grid.size)
    d, p = st.ks_test(cb, ca, b.size, a.size)
    ref = stats.ks_2samp(b, a, method="asymp")
    assert d == pytest.approx(ref.statistic, abs=1e-12)
    assert p == pytest.approx(ref.pvalue, rel=1e-9)


def test_ks_large_samples_within_grid_tolerance() -> None:
    rng = np.random.default_rng(6)
    ref, cur = rng.standard_normal(200_000), rng.normal(0.05, 1.1, 100_000)
    p = build_profile(ref)
    r = feature_drift(p, bin_counts(cur, p), method="ks")
    exact = stats.ks_2samp(cur, ref).statistic
    counts = bin_counts(cur, p)[:-1] / cur.size
    tol = max(float(counts.max()), max(p["fine_proportions"]))
    d = r.statistics["ks_statistic"]
    assert d <= exact + 1e-12 and exact - d <= tol
    assert r.value == r.statistics["ks_pvalue"] and r.drifted


def test_wasserstein_by_hand() -> None:
    # Uniform on [0, 1] vs uniform on [1, 2]: W1 = 1.
    assert st.wasserstein(np.array([0.0, 1.0, 2.0]), [0, 1, 0, 0], [0, 0, 1, 0]) == 1.0
    # CDF difference crosses zero inside the bin: 0.2 -> -0.2 over width 1 gives 0.1.
    edges = np.array([0.0, 1.0, 2.0])
    assert st.wasserstein(edges, [0.2, 0.3, 0.5, 0.0], [0.0, 0.7, 0.3, 0.0]) \
        == pytest.approx(0.1 + 0.5 * 0.2, abs=1e-15)


@pytest.mark.parametrize("mu, sigma, rel", [(0.1, 1.0, 0.05), (0.5, 1.0, 0.05),
                                             (0.2, 1.3, 0.15)])
def test_wasserstein_large_samples_against_scipy(mu: float, sigma: float, rel: float) -> None:
    # Tolerances are the documented accuracy of the within-bin linear approximation.
    rng = np.random.default_rng(8)
    ref, cur = rng.standard_normal(200_000), rng.normal(mu, sigma, 200_000)
    p = build_profile(ref)
    r = feature_drift(p, bin_counts(cur, p))
    exact = stats.wasserstein_distance(cur, ref) / np.std(ref)
    assert r.statistics["wasserstein"] == pytest.approx(exact, rel=rel)

"""Drift statistics as pure functions of binned masses (counts or proportions).

Inputs are 1-D arrays over the same bins, current first and reference second; counts and
proportions are both accepted because every function normalises. Logarithms are natural
(nats) unless stated. No function divides by zero or takes log(0): empty bins are handled by
the epsilon rule (``floor_proportions``) or by ``scipy.special.rel_entr``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import special, stats

EPS = 1e-4
# kstwo.sf costs up to ~1 ms at n=1,000 and ~0.6 s at n=500,000; beyond this effective n
# the Kolmogorov limit distribution is used, which differs from it by < 1% relative here.
KSTWO_MAX_N = 2_000

Masses = npt.NDArray[Any]


def proportions(masses: Masses) -> npt.NDArray[np.float64]:
    """Masses divided by their total (all zeros if the total is 0)."""
    m = np.asarray(masses, dtype=np.float64)
    total = m.sum()
    return m / total if total > 0 else np.zeros_like(m)


def floor_proportions(masses: Masses, eps: float = EPS) -> npt.NDArray[np.float64]:
    """Epsilon rule: p_i = max(m_i / sum(m), eps), then renormalised to sum to 1."""
    p = np.maximum(proportions(masses), eps)
    return p / p.sum()  # type: ignore[no-any-return]


def psi(current: Masses, reference: Masses, *, eps: float = EPS) -> float:
    """Population stability index Σ (c_i - r_i)·ln(c_i / r_i) on floored proportions (unitless)."""
    c, r = floor_proportions(current, eps), floor_proportions(reference, eps)
    return float(np.sum((c - r) * np.log(c / r)))


def kl_divergence(current: Masses, reference: Masses, *, eps: float = EPS) -> float:
    """Kullback-Leibler D(current‖reference) = Σ c_i·ln(c_i / r_i) on floored proportions (nats)."""
    c, r = floor_proportions(current, eps), floor_proportions(reference, eps)
    return float(np.sum(c * np.log(c / r)))


def js_distance(current: Masses, reference: Masses) -> float:
    """Jensen-Shannon distance sqrt(JSD) with base-2 logs, in [0, 1] (as scipy's, base=2).

    JSD = ½·D(c‖m) + ½·D(r‖m) with m = (c + r)/2. It is finite for empty bins, so it uses
    the raw proportions (no epsilon).
    """
    c, r = proportions(current), proportions(reference)
    m = (c + r) / 2.0
    jsd = (special.rel_entr(c, m).sum() + special.rel_entr(r, m).sum()) / (2.0 * np.log(2.0))
    return float(np.sqrt(max(jsd, 0.0)))  # rounding can leave -1e-17


def ks_test(current: Masses, reference: Masses, n_current: int,
            n_reference: int) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov (D, p-value) from masses over ordered bins.

    D = max_i |F_cur(x_i) - F_ref(x_i)| over the bin boundaries x_i (the cumulative sums).
    The true sup lies within max_i max(c_i, r_i) above this (the CDFs move by at most one
    bin's mass inside a bin), so D is a lower bound and the p-value errs on "no drift".
    p-value: two-sample asymptotic, ``kstwo.sf(D, round(en))`` with en = n·m/(n + m) as in
    ``scipy.stats.ks_2samp(method="asymp")``, or ``kolmogorov(sqrt(en)·D)`` for en > 2,000.
    """
    c, r = proportions(current), proportions(reference)
    d = float(np.max(np.abs(np.cumsum(c) - np.cumsum(r)), initial=0.0))
    en = n_current * n_reference / (n_current + n_reference)
    n_eff = max(int(np.round(en)), 1)
    if n_eff <= KSTWO_MAX_N:
        p = float(stats.kstwo.sf(d, n_eff))
    else:
        p = float(special.kolmogorov(np.sqrt(en) * d))
    return d, min(max(p, 0.0), 1.0)


def wasserstein(edges: npt.NDArray[np.float64], current: Masses, reference: Masses) -> float:
    """Wasserstein-1 ∫|F_cur - F_ref| dx from masses over the bins [edges_j, edges_j+1].

    ``current``/``reference`` have ``len(edges) + 1`` entries: the mass below edges[0], one
    per bin, the mass above edges[-1]. Within a bin both CDFs are taken as linear (mass spread
    uniformly), so the integral of |F_cur - F_ref| there is exact for that approximation:
    w·(|a| + |b|)/2 if the differences a, b at the bin ends share a sign, otherwise
    w·(a² + b²)/(2(|a| + |b|)). Mass outside the edges sits on the nearest edge, so it counts
    only as far as the edge. Units: those of x. Accuracy on the 100-bin percentile grid
    (checked against scipy.stats.wasserstein_distance, 2e5 normal samples): ~4% high for a
    location shift, ~10% high for a 1.1-1.3x scale change; nearly all of it comes from the
    two outermost bins [min, q_1%] and [q_99%, max], which are wide and far from uniform.
    """
    c, r = proportions(current), proportions(reference)
    diff = np.cumsum(c - r)[:-1]  # F_cur - F_ref at each edge (after the "below" mass)
    a, b = diff[:-1], diff[1:]
    width = np.diff(np.asarray(edges, dtype=np.float64))
    same = a * b >= 0
    total = np.abs(a) + np.abs(b)
    safe = np.where(same, 1.0, total)  # total > 0 wherever the signs differ
    area = np.where(same, total / 2.0, (a * a + b * b) / (2.0 * safe))
    return float(np.sum(width * area))


def chi_square(observed: Masses, expected: Masses, *, eps: float = EPS) -> tuple[float, float]:
    """Pearson χ² (statistic, p-value) of observed counts vs expected proportions.

    χ² = Σ (o_i - n·p_i)² / (n·p_i) with p the floored, renormalised expected proportions
    (so a category unseen in the reference cannot divide by zero), df = bins - 1.
    """
    o = np.asarray(observed, dtype=np.float64)
    n = o.sum()
    if o.size < 2 or n == 0:
        return 0.0, 1.0
    e = n * floor_proportions(expected, eps)
    stat = float(np.sum((o - e) ** 2 / e))
    return stat, float(stats.chi2.sf(stat, o.size - 1))

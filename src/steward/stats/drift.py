"""Drift decisions: statistics registered by name with default thresholds, applied to counts.

Which bins each statistic sees (from the layouts in ``binning``; missing values are left
out of every distribution statistic and reported as ``missing_rate`` instead):

- PSI, KL, Jensen-Shannon on numeric features: the coarse (decile) bins plus the two
  overflow bins as bins of their own: ``[below_min, coarse_1..coarse_10, above_max]``. The
  reference has no mass outside its own range, so by the epsilon rule its overflow bins
  hold 1e-4 each; a current window with mass there is penalised rather than folded into
  the edge deciles. On categorical features: ``[C_1..C_k, other]``.
- KS and Wasserstein: the fine bins plus the overflow bins (numeric only).
- χ²: ``[C_1..C_k, other]`` (categorical only); ``other`` is dropped if empty on both sides.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from steward.errors import InvalidInput
from steward.stats import stattests as st
from steward.stats.binning import n_bins
from steward.stats.profile import CATEGORICAL, NUMERIC, OTHER, Profile, categories, coarse_sums

# Sample size up to which p-value tests are the default; beyond it their p-values are tiny
# for any practically irrelevant shift, so an effect size with a fixed threshold is used.
SMALL_SAMPLE = 1_000


@dataclass(frozen=True)
class Binned:
    """A feature's current counts and reference masses, arranged for the statistics."""

    kind: str
    n_current: int
    n_reference: int
    current: npt.NDArray[np.float64]       # PSI/KL/JS bins
    reference: npt.NDArray[np.float64]
    current_fine: npt.NDArray[np.float64]  # KS/Wasserstein (numeric) or χ² (categorical) bins
    reference_fine: npt.NDArray[np.float64]
    edges: npt.NDArray[np.float64]         # fine edges (numeric)
    std: float


@dataclass(frozen=True)
class Statistic:
    """A registered drift statistic: drifted if value >= threshold (or < it for p-values)."""

    name: str
    kinds: frozenset[str]
    threshold: float
    is_pvalue: bool
    compute: Callable[[Binned], dict[str, float]]
    keys: tuple[str, ...] = ()  # what compute returns; the last one is the decision value

    @property
    def decision_key(self) -> str:
        """Key of the value compared with the threshold."""
        return self.keys[-1] if self.keys else self.name

    def drifted(self, value: float, threshold: float) -> bool:
        """Decision rule; NaN (statistic undefined) is never drift."""
        if math.isnan(value):
            return False
        return value < threshold if self.is_pvalue else value >= threshold


def _ks(b: Binned) -> dict[str, float]:
    d, p = st.ks_test(b.current_fine, b.reference_fine, b.n_current, b.n_reference)
    return {"ks_statistic": d, "ks_pvalue": p}


def _wasserstein(b: Binned) -> dict[str, float]:
    w = st.wasserstein(b.edges, b.current_fine, b.reference_fine)
    # A constant reference has zero-width bins, hence w == 0: report 0, not 0/0.
    return {"wasserstein": w / b.std if b.std > 0 else 0.0}


def _chi_square(b: Binned) -> dict[str, float]:
    obs, exp = b.current_fine, b.reference_fine
    if obs[-1] == 0 and exp[-1] == 0:
        obs, exp = obs[:-1], exp[:-1]
    stat, p = st.chi_square(obs, exp)
    return {"chisquare_statistic": stat, "chisquare_pvalue": p}


_BOTH = frozenset({NUMERIC, CATEGORICAL})
STATISTICS: dict[str, Statistic] = {s.name: s for s in (
    Statistic("psi", _BOTH, 0.2, False, lambda b: {"psi": st.psi(b.current, b.reference)}),
    Statistic("kl", _BOTH, 0.1, False,
              lambda b: {"kl": st.kl_divergence(b.current, b.reference)}),
    Statistic("jensenshannon", _BOTH, 0.1, False,
              lambda b: {"jensenshannon": st.js_distance(b.current, b.reference)}),
    Statistic("ks", frozenset({NUMERIC}), 0.05, True, _ks, ("ks_statistic", "ks_pvalue")),
    Statistic("wasserstein", frozenset({NUMERIC}), 0.1, False, _wasserstein),
    Statistic("chisquare", frozenset({CATEGORICAL}), 0.05, True, _chi_square,
              ("chisquare_statistic", "chisquare_pvalue")),
)}


def default_test(kind: str, n_cur: int) -> str:
    """Default statistic: numeric KS (n <= 1,000) else PSI; categorical χ² else Jensen-Shannon.

    Small windows get a significance test; large windows an effect size with a fixed
    threshold, because at n in the 10^5s KS and χ² flag shifts nobody cares about. PSI
    (rather than Wasserstein) is the large numeric default because it sees values beyond the
    reference range and works on constant columns.
    """
    if kind == NUMERIC:
        return "ks" if n_cur <= SMALL_SAMPLE else "psi"
    if kind == CATEGORICAL:
        return "chisquare" if n_cur <= SMALL_SAMPLE else "jensenshannon"
    raise InvalidInput(f"unknown feature kind {kind!r}", field="kind")


@dataclass(frozen=True)
class DriftResult:
    """One feature's drift verdict; ``value`` is statistics[decision key], NaN if undefined."""

    feature: str
    kind: str
    method: str
    value: float
    threshold: float
    drifted: bool
    statistics: dict[str, float] = field(default_factory=dict)
    n_current: int = 0
    n_reference: int = 0
    missing_rate: float = 0.0
    reference_missing_rate: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form: NaN (undefined) becomes None."""
        def clean(v: float) -> float | None:
            return None if math.isnan(v) else v
        return {"feature": self.feature, "kind": self.kind, "method": self.method,
                "value": clean(self.value), "threshold": self.threshold,
                "drifted": self.drifted, "n_current": self.n_current,
                "n_reference": self.n_reference, "missing_rate": self.missing_rate,
                "reference_missing_rate": self.reference_missing_rate,
                "statistics": {k: clean(v) for k, v in self.statistics.items()}}


def arrange(profile: Profile, counts: npt.NDArray[Any]) -> Binned:
    """Arrange counts (layout of ``binning``) and the profile's masses for the statistics."""
    counts = np.asarray(counts)
    if counts.ndim != 1 or counts.size != n_bins(profile):
        raise InvalidInput(f"counts has shape {counts.shape}; the profile's layout needs "
                           f"({n_bins(profile)},)", field="counts")
    cur = counts[:-1].astype(np.float64)  # drop missing
    n_cur, n_ref = int(cur.sum()), int(profile["count"])
    if profile["kind"] == CATEGORICAL:
        freqs = profile["frequencies"]
        ref = np.array([freqs[c] for c in categories(profile)] + [freqs.get(OTHER, 0.0)])
        return Binned(CATEGORICAL, n_cur, n_ref, cur, ref, cur, ref, np.zeros(0), 0.0)
    fine_ref = np.concatenate(([0.0], profile["fine_proportions"], [0.0]))
    coarse_cur = np.concatenate(([cur[0]], coarse_sums(cur[1:-1], profile), [cur[-1]]))
    coarse_ref = np.concatenate(([0.0], profile["bin_proportions"], [0.0]))
    q = np.asarray(profile["quantiles"], dtype=np.float64)
    edges = np.repeat(q, 2) if q.size == 1 else q  # a constant column's one bin is [c, c]
    return Binned(NUMERIC, n_cur, n_ref, coarse_cur, coarse_ref, cur, fine_ref, edges,
                  float(profile["std"] or 0.0))


def feature_drift(profile: Profile, counts: npt.NDArray[Any], *, method: str | None = None,
                  threshold: float | None = None, feature: str = "") -> DriftResult:
    """Drift of one feature from its window counts: every applicable statistic, one verdict."""
    b = arrange(profile, counts)
    name = method or default_test(b.kind, b.n_current)
    chosen = STATISTICS.get(name)
    if chosen is None or b.kind not in chosen.kinds:
        raise InvalidInput(f"statistic {name!r} does not apply to {b.kind} features",
                           field="method")
    stats: dict[str, float] = {}
    defined = b.n_current > 0 and b.n_reference > 0
    for s in STATISTICS.values():
        if b.kind in s.kinds:
            if defined:
                stats.update(s.compute(b))
            else:
                stats.update(dict.fromkeys(s.keys or (s.name,), math.nan))
    total = int(np.sum(counts))
    stats["missing_rate"] = (total - b.n_current) / total if total else math.nan
    value = stats[chosen.decision_key]
    limit = chosen.threshold if threshold is None else threshold
    return DriftResult(feature, b.kind, name, value, limit, chosen.drifted(value, limit), stats,
                       b.n_current, b.n_reference, stats["missing_rate"],
                       float(profile["missing_rate"]))


def dataset_drift(results: Sequence[DriftResult], share: float = 0.5) -> bool:
    """Dataset drift: the share of drifted features is >= ``share`` (False when empty)."""
    if not results:
        return False
    return sum(r.drifted for r in results) / len(results) >= share

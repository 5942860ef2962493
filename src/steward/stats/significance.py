"""Significance tests for A/B experiments: pure functions, formulas in the docstrings."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps


@dataclass(frozen=True)
class TestResult:
    """Outcome of a two-arm comparison."""

    test: str
    statistic: float
    p_value: float
    effect: float  # challenger minus champion (difference of proportions or of means)
    significant: bool
    required_per_arm: int | None  # sample size per arm to detect `effect` at alpha / power

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form (NaN → None)."""
        def clean(x: float) -> float | None:
            return None if isinstance(x, float) and not math.isfinite(x) else x

        return {"test": self.test, "statistic": clean(self.statistic),
                "p_value": clean(self.p_value), "effect": clean(self.effect),
                "significant": self.significant, "required_per_arm": self.required_per_arm}


def two_proportion_ztest(successes_a: int, n_a: int, successes_b: int, n_b: int, *,
                         alpha: float = 0.05, power: float = 0.8) -> TestResult:
    """Pooled two-proportion z-test of B vs A (two-sided).

    z = (p_b − p_a) / sqrt(p(1−p)(1/n_a + 1/n_b)), p = (s_a + s_b)/(n_a + n_b);
    p-value = 2·(1 − Φ(|z|)). Required n per arm to detect the observed difference:
    n = (z_{1−α/2}·sqrt(2p̄(1−p̄)) + z_{power}·sqrt(p_a(1−p_a) + p_b(1−p_b)))² / (p_b − p_a)².
    """
    if n_a <= 0 or n_b <= 0:
        return TestResult("two_proportion_z", math.nan, math.nan, math.nan, False, None)
    p_a, p_b = successes_a / n_a, successes_b / n_b
    pooled = (successes_a + successes_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    effect = p_b - p_a
    if se == 0:
        return TestResult("two_proportion_z", math.nan, math.nan, effect, False, None)
    z = effect / se
    p_value = float(2 * sps.norm.sf(abs(z)))
    return TestResult("two_proportion_z", z, p_value, effect, p_value < alpha,
                      _required_proportions(p_a, p_b, alpha, power))


def _required_proportions(p_a: float, p_b: float, alpha: float, power: float) -> int | None:
    if p_a == p_b:
        return None
    z_a, z_b = sps.norm.ppf(1 - alpha / 2), sps.norm.ppf(power)
    p_bar = (p_a + p_b) / 2
    num = (z_a * math.sqrt(2 * p_bar * (1 - p_bar))
           + z_b * math.sqrt(p_a * (1 - p_a) + p_b * (1 - p_b))) ** 2
    required: int = math.ceil(num / (p_b - p_a) ** 2)
    return required


def welch_ttest(a: np.ndarray, b: np.ndarray, *, alpha: float = 0.05,
                power: float = 0.8) -> TestResult:
    """Welch's unequal-variance t-test of mean(B) vs mean(A) (two-sided), as scipy's
    `ttest_ind(equal_var=False)`. Required n per arm for the observed difference d:
    n = (z_{1−α/2} + z_{power})² · (s_a² + s_b²) / d² (normal approximation)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.size < 2 or b.size < 2:
        return TestResult("welch_t", math.nan, math.nan, math.nan, False, None)
    effect = float(b.mean() - a.mean())
    va, vb = float(a.var(ddof=1)), float(b.var(ddof=1))
    if va + vb == 0:
        return TestResult("welch_t", math.nan, math.nan, effect, False, None)
    result = sps.ttest_ind(b, a, equal_var=False)
    required = None
    if effect != 0:
        z = sps.norm.ppf(1 - alpha / 2) + sps.norm.ppf(power)
        required = math.ceil(z * z * (va + vb) / effect ** 2)
    p_value = float(result.pvalue)
    return TestResult("welch_t", float(result.statistic), p_value, effect, p_value < alpha,
                      required)

"""A/B significance tests against SciPy and hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from steward.stats.significance import two_proportion_ztest, welch_ttest


def test_two_proportion_z_matches_hand_computation() -> None:
    # p_a = 0.10 (100/1000), p_b = 0.13 (130/1000), pooled 0.115
    result = two_proportion_ztest(100, 1000, 130, 1000)
    se = math.sqrt(0.115 * 0.885 * (2 / 1000))
    z = 0.03 / se
    assert result.statistic == pytest.approx(z, rel=1e-12)
    assert result.p_value == pytest.approx(2 * sps.norm.sf(z), rel=1e-12)
    assert result.effect == pytest.approx(0.03)
    assert result.significant is True
    # classic sample-size formula: about 1,770 per arm for 10% -> 13% at 80% power
    assert 1700 < (result.required_per_arm or 0) < 1850


def test_two_proportion_z_without_data_is_not_significant() -> None:
    result = two_proportion_ztest(0, 0, 3, 10)
    assert result.significant is False and math.isnan(result.p_value)
    assert result.as_dict()["p_value"] is None


def test_welch_matches_scipy() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(1.0, 1.0, 400), rng.normal(1.2, 2.0, 300)
    result = welch_ttest(a, b)
    expected = sps.ttest_ind(b, a, equal_var=False)
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-12)
    assert result.effect == pytest.approx(b.mean() - a.mean())
    assert result.required_per_arm is not None and result.required_per_arm > 0

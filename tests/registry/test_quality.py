"""The reference-data quality gate, checked against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

from steward.registry.contract import Contract, FeatureSpec, infer_contract
from steward.registry.quality import QualityThresholds, duplicate_rate, quality_report

LENIENT = QualityThresholds(min_completeness=0.0, min_type_consistency=0.0,
                            max_duplicate_rate=1.0, min_range_consistency=0.0)


@pytest.fixture
def mixed() -> pd.DataFrame:
    return pd.DataFrame({
        "age": [25, 32, 47, 51, 25],
        "income": [50000.0, np.nan, 72000.5, 88000.0, 50000.0],
        "segment": pd.Series(["retail", 3, None, "sme", "retail"], dtype=object),
        "member": [True, False, True, True, True],
    })


@pytest.fixture
def contract() -> Contract:
    return Contract(features=[
        FeatureSpec(name="age", dtype="int", min=20, max=50),
        FeatureSpec(name="income", dtype="float", nullable=True),
        FeatureSpec(name="segment", dtype="string", nullable=True, categories=["retail"]),
        FeatureSpec(name="member", dtype="bool"),
    ])


def test_metrics_match_hand_computed_values(mixed: pd.DataFrame, contract: Contract) -> None:
    report = quality_report(mixed, contract, LENIENT)
    assert report.rows == 5
    assert report.completeness == pytest.approx(18 / 20)      # two missing of 4 x 5 cells
    assert report.type_consistency == pytest.approx(17 / 18)  # the 3 in `segment`
    # age: 4 of 5 inside [20, 50]; segment: 2 of 3 strings are "retail"
    assert report.range_consistency == pytest.approx(6 / 8)
    assert report.duplicate_rate == pytest.approx(1 / 5)      # row 4 repeats row 0
    assert report.per_feature["segment"] == pytest.approx(
        {"completeness": 0.8, "type_consistency": 0.75, "range_consistency": 2 / 3})
    assert report.per_feature["income"] == {"completeness": 0.8, "type_consistency": 1.0,
                                            "range_consistency": 1.0}
    assert report.passed and report.failures == []


def test_gate_reports_each_failing_metric(mixed: pd.DataFrame, contract: Contract) -> None:
    report = quality_report(mixed, contract, QualityThresholds())
    assert not report.passed
    assert report.failures == [
        "completeness 0.9000 is below the minimum 0.9500",
        "type consistency 0.9444 is below the minimum 0.9900",
        "range consistency 0.7500 is below the minimum 0.9900",
        "duplicate rate 0.2000 is above the maximum 0.0500",
    ]


def test_missing_required_feature_fails_and_counts_as_missing(mixed: pd.DataFrame) -> None:
    contract = Contract(features=[FeatureSpec(name="age", dtype="int"),
                                  FeatureSpec(name="tenure", dtype="int"),
                                  FeatureSpec(name="notes", dtype="string", required=False)])
    report = quality_report(mixed, contract, LENIENT)
    assert report.completeness == 0.5
    assert set(report.per_feature) == {"age", "tenure"}
    assert report.failures == ["required feature 'tenure' is missing from the data"]


def test_typed_column_of_the_wrong_type_is_wholly_inconsistent() -> None:
    df = pd.DataFrame({"s": [1, 2, 3, 4]})
    report = quality_report(df, Contract(features=[FeatureSpec(name="s", dtype="string")]),
                            LENIENT)
    assert report.type_consistency == 0.0


def test_float_column_for_int_feature_counts_non_integral_values() -> None:
    df = pd.DataFrame({"n": [1.0, 2.5, 3.0, np.nan]})
    report = quality_report(df, Contract(features=[FeatureSpec(name="n", dtype="int")]), LENIENT)
    assert report.type_consistency == pytest.approx(2 / 3)


def test_breast_cancer_passes_its_own_gate() -> None:
    df: pd.DataFrame = load_breast_cancer(as_frame=True).frame
    report = quality_report(df, infer_contract(df, exclude=["target"]), QualityThresholds())
    assert report.passed, report.failures
    assert (report.completeness, report.type_consistency, report.range_consistency) == (1, 1, 1)
    assert len(report.per_feature) == 30


def test_empty_data_fails() -> None:
    df = pd.DataFrame({"x": pd.Series([], dtype=float)})
    report = quality_report(df, Contract(features=[FeatureSpec(name="x", dtype="float")]),
                            QualityThresholds())
    assert not report.passed and "no rows" in report.failures[0]


def test_duplicate_rate_handles_unhashable_cells() -> None:
    df = pd.DataFrame({"v": [[1, 2], [1, 2], [3]]})
    assert duplicate_rate(df) == pytest.approx(1 / 3)


def test_large_random_frame_passes_the_gate() -> None:
    rng = np.random.default_rng(0)
    n = 200_000
    df = pd.DataFrame({f"f{i}": rng.normal(size=n) for i in range(8)})
    df["k"] = rng.integers(0, 100, n)
    df["seg"] = rng.choice(np.array(["a", "b", "c"], dtype=object), n)
    contract = infer_contract(df)
    report = quality_report(df, contract, QualityThresholds())
    assert report.passed
    assert report.duplicate_rate == 0.0 and report.completeness == 1.0

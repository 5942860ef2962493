"""Data quality gate on a version's reference data: completeness, types, ranges, duplicates."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from pydantic import BaseModel

from steward.registry.contract import Contract, column_stats


@dataclass(frozen=True)
class QualityThresholds:
    """Gate thresholds; each metric is a share in [0, 1]."""

    min_completeness: float = 0.95
    min_type_consistency: float = 0.99
    max_duplicate_rate: float = 0.05
    min_range_consistency: float = 0.99


class QualityReport(BaseModel):
    """Quality metrics of reference data against a contract, and whether the gate passed."""

    rows: int
    completeness: float
    type_consistency: float
    range_consistency: float
    duplicate_rate: float
    per_feature: dict[str, dict[str, float]]
    passed: bool
    failures: list[str]


def _share(part: int, whole: int) -> float:
    """part / whole, with an empty whole counting as fully consistent."""
    return part / whole if whole else 1.0


def duplicate_rate(df: pd.DataFrame) -> float:
    """Share of rows that exactly repeat an earlier row (all columns compared).

    Rows are compared by a 64-bit hash of their cells, several times faster than
    `DataFrame.duplicated` on wide frames; a collision is vanishingly unlikely.
    """
    if len(df) == 0:
        return 0.0
    try:
        hashes = pd.util.hash_pandas_object(df, index=False)
    except TypeError:  # unhashable cells (lists from Parquet): compare their text form
        hashes = pd.util.hash_pandas_object(df.astype(str), index=False)
    return int(hashes.duplicated().sum()) / len(df)


def quality_report(
    df: pd.DataFrame, contract: Contract, thresholds: QualityThresholds
) -> QualityReport:
    """Measure reference data against the contract and apply the quality gate.

    completeness = non-missing cells / (rows x features), over the contract's required
    features and the optional ones present in the data (an absent required feature counts
    as all missing); type_consistency = cells of the contract dtype / non-missing cells;
    range_consistency = cells inside [min, max] or the categories / type-correct cells of
    features that declare a range or categories; duplicate_rate = repeated rows / rows.
    """
    rows = len(df)
    columns = {str(c): c for c in df.columns}
    per_feature: dict[str, dict[str, float]] = {}
    failures: list[str] = []
    cells = present = type_ok = checked = in_range = 0
    for spec in contract.features:
        if spec.name not in columns:
            if spec.required:
                failures.append(f"required feature {spec.name!r} is missing from the data")
                cells += rows
                per_feature[spec.name] = {"completeness": 0.0, "type_consistency": 1.0,
                                          "range_consistency": 1.0}
            continue
        st = column_stats(df[columns[spec.name]], spec)
        good = st.checked - st.below_min - st.above_max - st.not_in_categories
        cells += st.rows
        present += st.present
        type_ok += st.type_ok
        checked += st.checked
        in_range += good
        per_feature[spec.name] = {
            "completeness": _share(st.present, st.rows),
            "type_consistency": _share(st.type_ok, st.present),
            "range_consistency": _share(good, st.checked),
        }
    completeness = _share(present, cells)
    type_consistency = _share(type_ok, present)
    range_consistency = _share(in_range, checked)
    dup_rate = duplicate_rate(df)
    if rows == 0:
        failures.append("the reference data has no rows")
    for metric, value, limit, low_is_bad in (
        ("completeness", completeness, thresholds.min_completeness, True),
        ("type consistency", type_consistency, thresholds.min_type_consistency, True),
        ("range consistency", range_consistency, thresholds.min_range_consistency, True),
        ("duplicate rate", dup_rate, thresholds.max_duplicate_rate, False),
    ):
        if low_is_bad and value < limit:
            failures.append(f"{metric} {value:.4f} is below the minimum {limit:.4f}")
        elif not low_is_bad and value > limit:
            failures.append(f"{metric} {value:.4f} is above the maximum {limit:.4f}")
    return QualityReport(
        rows=rows, completeness=completeness, type_consistency=type_consistency,
        range_consistency=range_consistency, duplicate_rate=dup_rate,
        per_feature=per_feature, passed=not failures, failures=failures,
    )

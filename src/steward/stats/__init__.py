"""Reference profiles and drift statistics: pure functions over NumPy arrays, no I/O.

Flow: ``build_profiles`` at registration (JSON-ready dicts) -> ``bin_counts`` per batch
(additive int64 counts; ``merge_counts`` sums batches into a window) -> ``feature_drift``
per feature, or ``drift_report`` to bin and decide many columns at once.
"""

from __future__ import annotations

from steward.stats.binning import bin_counts, empty_counts, merge_counts, n_bins
from steward.stats.drift import (
    STATISTICS,
    DriftResult,
    Statistic,
    dataset_drift,
    default_test,
    feature_drift,
)
from steward.stats.profile import Profile, build_profile, build_profiles, infer_kind
from steward.stats.report import drift_report

__all__ = [
    "STATISTICS",
    "DriftResult",
    "Profile",
    "Statistic",
    "bin_counts",
    "build_profile",
    "build_profiles",
    "dataset_drift",
    "default_test",
    "drift_report",
    "empty_counts",
    "feature_drift",
    "infer_kind",
    "merge_counts",
    "n_bins",
]

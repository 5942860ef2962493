"""Drift, data quality and silent-failure checks of one version's window aggregate (pure).

Silent failures (M5), each evaluated only once the window has ``min_rows`` answered rows:

- ``constant_output``: a categorical output's most frequent value takes at least
  ``constant_share`` of the window while the reference's top value took less.
- ``variance_collapse``: a numeric output's std (population) fell below ``std_collapse`` x
  the reference std: ``sqrt(S2/n - (S1/n)^2) < std_collapse * sigma_ref``.
- ``fallback_spike``: fallback rate (fallback requests / requests) rose by at least
  ``fallback_jump`` over the previous window of the same size.
- ``completeness``: a feature's non-missing share fell below ``min_completeness``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from steward.monitoring.aggregates import QUALITY, Aggregate, Layout
from steward.monitoring.schemas import MonitoringConfig
from steward.stats import dataset_drift, feature_drift
from steward.stats.drift import DriftResult
from steward.stats.profile import CATEGORICAL, categories


def drift(layout: Layout, agg: Aggregate, config: MonitoringConfig
          ) -> tuple[list[DriftResult], list[DriftResult]]:
    """Drift of every enabled feature and output against the version's reference profile."""
    def run(slots: list[Any], output: bool) -> list[DriftResult]:
        results = []
        for slot in slots:
            rule = config.rule(slot.name, output)
            if rule.enabled:
                results.append(feature_drift(slot.profile, agg.counts[slot.start:slot.stop],
                                             method=rule.method, threshold=rule.threshold,
                                             feature=slot.name))
        return results

    return run(layout.features, False), run(layout.outputs, True)


def drift_summary(features: list[DriftResult], config: MonitoringConfig) -> tuple[float, bool]:
    """Share of drifted features and the dataset-drift verdict."""
    share = sum(r.drifted for r in features) / len(features) if features else 0.0
    return share, dataset_drift(features, config.drift_share)


def rate(part: int, whole: int) -> float | None:
    """part / whole, None when whole is 0."""
    return part / whole if whole else None


def feature_quality(layout: Layout, agg: Aggregate) -> list[dict[str, Any]]:
    """Completeness, type and range violations, unseen categories and OOD per feature."""
    requests = agg.scalar("requests")
    out = []
    for slot in layout.features:
        counts = agg.counts[slot.start:slot.stop]
        q = dict(zip(QUALITY, (int(v) for v in agg.counts[slot.stop:slot.stop + 4]),
                     strict=True))
        total = int(counts.sum())
        missing = int(counts[-1])
        out.append({"feature": slot.name, "kind": slot.profile["kind"], "rows": total,
                    "missing": missing,
                    "completeness": None if not total else 1.0 - missing / total,
                    "reference_completeness": 1.0 - float(slot.profile["missing_rate"]),
                    "type_violations": q["type_violations"],
                    "range_violations": q["range_violations"], "unseen": q["unseen"],
                    "ood_requests": q["ood_requests"],
                    "ood_rate": rate(q["ood_requests"], requests)})
    return out


def output_summary(layout: Layout, agg: Aggregate) -> list[dict[str, Any]]:
    """Per output: top value and its share (categorical) or mean and std (numeric)."""
    out = []
    for slot in layout.outputs:
        counts = agg.counts[slot.start:slot.stop]
        n = int(counts[:-1].sum())
        item: dict[str, Any] = {"output": slot.name, "kind": slot.profile["kind"], "rows": n}
        if slot.profile["kind"] == CATEGORICAL:
            names = [*categories(slot.profile), "__other__"]
            freqs = slot.profile["frequencies"]
            top = int(np.argmax(counts[:-1])) if n else 0
            item.update(top=names[top] if n else None,
                        top_share=float(counts[top]) / n if n else None,
                        reference_top_share=max(freqs.values()) if freqs else None,
                        shares={names[i]: float(counts[i]) / n
                                for i in range(len(names)) if n and counts[i]})
        else:
            s1, s2 = agg.sums[slot.sums_at], agg.sums[slot.sums_at + 1]
            mean = s1 / n if n else None
            std = math.sqrt(max(s2 / n - (s1 / n) ** 2, 0.0)) if n else None
            item.update(mean=mean, std=std, reference_mean=slot.profile.get("mean"),
                        reference_std=slot.profile.get("std"))
        out.append(item)
    return out


def silent_failures(features: list[dict[str, Any]], outputs: list[dict[str, Any]],
                    fallback_rate: float | None, previous_fallback_rate: float | None,
                    config: MonitoringConfig) -> list[dict[str, Any]]:
    """Every silent-failure and completeness check with its status (``ok`` / ``fail``)."""
    checks: list[dict[str, Any]] = []

    def check(name: str, target: str, failed: bool, value: float | None, limit: float,
              detail: str) -> None:
        checks.append({"check": name, "target": target, "status": "fail" if failed else "ok",
                       "value": value, "threshold": limit, "detail": detail})

    for f in features:
        if f["completeness"] is not None:
            check("completeness", f["feature"], f["completeness"] < config.min_completeness,
                  f["completeness"], config.min_completeness, "share of non-missing values")
    for o in outputs:
        if o["rows"] < config.min_rows:
            continue
        if o["kind"] == CATEGORICAL:
            ref_top = o["reference_top_share"] or 1.0
            check("constant_output", o["output"],
                  o["top_share"] >= config.constant_share and ref_top < config.constant_share,
                  o["top_share"], config.constant_share,
                  f"{o['top']!r} takes {o['top_share']:.1%} (reference top {ref_top:.1%})")
        elif o["reference_std"]:
            ratio = o["std"] / o["reference_std"]
            check("variance_collapse", o["output"], ratio < config.std_collapse, ratio,
                  config.std_collapse, "output std / reference std")
    if fallback_rate is not None:
        before = previous_fallback_rate or 0.0
        check("fallback_spike", "fallback_rate", fallback_rate - before >= config.fallback_jump,
              fallback_rate - before, config.fallback_jump,
              f"fallback rate {fallback_rate:.1%}, previous window {before:.1%}")
    return checks

"""Monitoring logic: config, drift, data quality, live performance and fairness reports."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.db import utcnow
from steward.deployments import service as deployments
from steward.deployments.tables import Deployment
from steward.errors import InvalidInput, NotFound
from steward.monitoring import checks, report
from steward.monitoring import fairness as fair
from steward.monitoring import performance as perf
from steward.monitoring.aggregates import Aggregate, Layout
from steward.monitoring.aggregator import Layouts
from steward.monitoring.outcomes import read_rows
from steward.monitoring.schemas import (
    DriftOut,
    FairnessOut,
    MonitoringConfig,
    PerformanceOut,
    QualityOut,
)
from steward.monitoring.tables import MonitorConfig
from steward.monitoring.windows import Window, WindowData, minutes, read
from steward.registry import service as registry
from steward.registry.tables import ModelVersion
from steward.stats import STATISTICS


def get_deployment(*, session: Session, name: str) -> Deployment:
    """The deployment row (``NotFound`` otherwise)."""
    return deployments.get_deployment(session=session, name=name)


def resolve_version(*, session: Session, deployment: Deployment,
                    ref: str | None) -> ModelVersion:
    """``None``: the champion; ``3`` / ``champion``: of the champion's model; ``m:3``."""
    champion = session.get_one(ModelVersion, deployment.champion_version_id)
    if ref is None:
        return champion
    model, _, version = ref.rpartition(":")
    return registry.get_version(session=session, name=model or champion.model.name,
                                ref=version)


def label(version: ModelVersion) -> str:
    """``model:version``."""
    return f"{version.model.name}:{version.version}"


def get_config(*, session: Session, deployment: str) -> MonitoringConfig:
    """The deployment's monitoring config (defaults when never set)."""
    get_deployment(session=session, name=deployment)
    row = session.get(MonitorConfig, deployment)
    return MonitoringConfig.model_validate(row.config if row else {})


def set_config(*, session: Session, deployment: str, config: MonitoringConfig,
               actor: str) -> MonitoringConfig:
    """Replace the deployment's config; names and methods are checked against the champion."""
    dep = get_deployment(session=session, name=deployment)
    profile = session.get_one(ModelVersion, dep.champion_version_id).profile
    for section, rules in (("features", config.features), ("outputs", config.outputs)):
        known = profile.get(section, {})
        for name, rule in rules.items():
            if name not in known:
                raise InvalidInput(f"{name!r} is not a profiled {section[:-1]}",
                                   field=f"{section}.{name}")
            method = rule.method or config.method
            if method and known[name]["kind"] not in STATISTICS[method].kinds:
                raise InvalidInput(f"{method} does not apply to {known[name]['kind']} "
                                   f"{name!r}", field=f"{section}.{name}.method")
    row = session.get(MonitorConfig, deployment)
    data = config.model_dump(mode="json", exclude_defaults=True)
    if row is None:
        session.add(MonitorConfig(deployment=deployment, config=data, updated_by=actor,
                                  updated_at=utcnow()))
    else:
        row.config, row.updated_by, row.updated_at = data, actor, utcnow()
    return config


def _window(session: Session, layouts: Layouts, name: str, window: Window,
            version: str | None, *, folded_only: bool = False
            ) -> tuple[ModelVersion, WindowData, MonitoringConfig]:
    dep = get_deployment(session=session, name=name)
    ver = resolve_version(session=session, deployment=dep, ref=version)
    data = read(session, layouts, name, window, [ver.id], include_tail=not folded_only)
    return ver, data, get_config(session=session, deployment=name)


def drift(*, session: Session, layouts: Layouts, deployment: str, window: Window,
          version: str | None = None, folded_only: bool = False) -> DriftOut:
    """Each feature and output of one version against its reference profile.

    `folded_only` skips rows not yet folded into buckets (cheap; used for the gauges)."""
    return _drift(session, layouts, deployment, window, version, folded_only)[0]


def drift_html(*, session: Session, layouts: Layouts, deployment: str, window: Window,
               version: str | None = None) -> str:
    """The drift report as a self-contained HTML page with inline SVG histograms."""
    out, layout, agg = _drift(session, layouts, deployment, window, version)
    hists = [report.histogram(s.name, s.profile, agg.counts[s.start:s.stop])
             for s in (*layout.features, *layout.outputs)]
    return report.render(out, hists)


def _drift(session: Session, layouts: Layouts, deployment: str, window: Window,
           version: str | None, folded_only: bool = False
           ) -> tuple[DriftOut, Layout, Aggregate]:
    ver, data, config = _window(session, layouts, deployment, window, version,
                                folded_only=folded_only)
    layout = layouts.get(session, {ver.id}).get(ver.id)
    if layout is None:
        raise NotFound(f"version {label(ver)} has no profile", field="version")
    agg = data.total(ver.id) or layout.empty()
    features, outputs = checks.drift(layout, agg, config)
    share, verdict = checks.drift_summary(features, config)
    out = DriftOut(deployment=deployment, version=label(ver), window=data.out(),
                   dataset_drift=verdict, drifted_share=share, drift_share=config.drift_share,
                   features=[r.as_dict() for r in features],
                   outputs=[r.as_dict() for r in outputs])
    return out, layout, agg


def quality(*, session: Session, layouts: Layouts, deployment: str, window: Window,
            version: str | None = None) -> QualityOut:
    """Completeness, violations, OOD, and silent-failure checks of one version."""
    ver, data, config = _window(session, layouts, deployment, window, version)
    layout = layouts.get(session, {ver.id})[ver.id]
    agg = data.total(ver.id) or layout.empty()
    skip = window.last or 0
    previous = read(session, layouts, deployment, window.previous(), [ver.id], skip_rows=skip)
    prev = previous.total(ver.id)
    requests = agg.scalar("requests")
    fb_rate = checks.rate(agg.scalar("fallbacks"), requests)
    prev_rate = checks.rate(prev.scalar("fallbacks"), prev.scalar("requests")) if prev else None
    features = checks.feature_quality(layout, agg)
    outputs = checks.output_summary(layout, agg)
    return QualityOut(
        deployment=deployment, version=label(ver), window=data.out(),
        error_rate=checks.rate(agg.scalar("errors"), requests), fallback_rate=fb_rate,
        previous_fallback_rate=prev_rate,
        ood_rate=checks.rate(agg.scalar("ood_requests"), requests),
        features=features, outputs=outputs,
        checks=checks.silent_failures(features, outputs, fb_rate, prev_rate, config))


def _prefix(agg: Aggregate, data: WindowData, vid: int) -> Aggregate:
    """The version-independent head of an aggregate (scalars, latency, latency sum)."""
    stop = data.layouts[vid].latency.stop
    return Aggregate(agg.counts[:stop].copy(), agg.sums[:1].copy())


def _steps(window: Window, data: WindowData, step: int | None) -> int:
    """Series step in seconds: given, or what makes at most ~60 points."""
    if step is not None:
        if step < 1:
            raise InvalidInput("step must be at least 1 minute", field="step")
        return step * 60
    span = minutes(window) if window.start else max(
        (max((p[2] for p in data.parts), default=0) - min((p[2] for p in data.parts),
                                                           default=0)) / 60 + 1, 1)
    return max(1, math.ceil(span / 60)) * 60


def performance(*, session: Session, layouts: Layouts, deployment: str, window: Window,
                step: int | None = None) -> PerformanceOut:
    """Serving metrics per version and route; feedback metrics overall and per step."""
    dep = get_deployment(session=session, name=deployment)
    champion = resolve_version(session=session, deployment=dep, ref=None)
    config = get_config(session=session, deployment=deployment)
    data = read(session, layouts, deployment, window)
    span = minutes(window)
    names = {v.id: label(v) for v in session.scalars(select(ModelVersion).where(
        ModelVersion.id.in_({p[0] for p in data.parts})))}
    grouped: dict[tuple[int, str], Aggregate] = {}
    step_s = _steps(window, data, step)
    by_step: dict[int, Aggregate] = {}
    total: Aggregate | None = None
    for (vid, route, start), agg in data.parts.items():
        _accumulate(grouped, (vid, route), _prefix(agg, data, vid))
        _accumulate(by_step, start - start % step_s, _prefix(agg, data, vid))
        total = _prefix(agg, data, vid) if total is None else total.add(_prefix(agg, data, vid))
    layout = next(iter(data.layouts.values()), None)
    serving = []
    if total is not None and layout is not None:
        serving.append({"version": "*", "route": "*", **perf.serving(total, layout, span)})
        for (vid, route), agg in sorted(grouped.items()):
            serving.append({"version": names.get(vid, str(vid)), "route": route,
                            **perf.serving(agg, layout, span)})
    classes = _classes(champion)
    rows = read_rows(session, deployment, window, classes, champion.task,
                     only_with_feedback=True)
    overall = _quality(rows, np.ones(rows.n, bool), classes, champion.task,
                       config.positive_label)
    series = []
    for start in sorted(set(by_step) | {int(t - t % step_s) for t in rows.ts}):
        mask = (rows.ts >= start) & (rows.ts < start + step_s)
        point: dict[str, Any] = {"start": start}
        if start in by_step and layout is not None:
            point.update(perf.serving(by_step[start], layout, step_s / 60))
        point.update(_quality(rows, mask, classes, champion.task, config.positive_label))
        series.append(point)
    overall["complete"] = rows.complete
    return PerformanceOut(deployment=deployment, task=champion.task, window=data.out(),
                          serving=serving, quality=overall, series=series)


def _accumulate(into: dict[Any, Aggregate], key: Any, agg: Aggregate) -> None:
    have = into.get(key)
    into[key] = agg if have is None else have.add(agg)


def _classes(version: ModelVersion) -> list[str]:
    for out in version.contract.get("outputs", []):
        if out.get("name") == "probabilities" and out.get("classes"):
            return [str(c) for c in out["classes"]]
    return []


def _quality(rows: Any, mask: Any, classes: list[str], task: str,
             positive: str | None) -> dict[str, Any]:
    if task == "regression":
        return perf.regression(rows.truth_value[mask], rows.label[mask].astype(np.float64))
    known = mask & np.asarray([t is not None for t in rows.truth_label], dtype=bool)
    proba = rows.proba[known] if rows.proba is not None else None
    return perf.classification([str(t) for t in rows.truth_label[known]],
                               list(rows.label[known]), proba, classes, positive)


def fairness(*, session: Session, layouts: Layouts, deployment: str, window: Window,
             step: int | None = None) -> FairnessOut:
    """Selection rates and parity differences per protected feature, overall and per step."""
    dep = get_deployment(session=session, name=deployment)
    champion = resolve_version(session=session, deployment=dep, ref=None)
    if champion.task == "regression":
        raise InvalidInput("fairness metrics need a classifier", field="deployment")
    config = get_config(session=session, deployment=deployment)
    protected = [f["name"] for f in champion.contract.get("features", []) if f.get("protected")]
    classes = _classes(champion)
    positive = config.positive_label if config.positive_label in classes else (
        classes[-1] if classes else None)
    rows = read_rows(session, deployment, window, classes, champion.task, protected)
    selected = rows.label == str(positive)
    truth = np.asarray([np.nan if t is None else float(str(t) == str(positive))
                        for t in rows.truth_label], dtype=np.float64)
    step_s = (step or max(1, math.ceil(minutes(window) / 60) if window.start else 60)) * 60
    out = []
    for feat in protected:
        groups = rows.features[feat]
        item = {"feature": feat, **fair.group_fairness(groups, selected, truth), "series": []}
        for start in sorted({int(t - t % step_s) for t in rows.ts}):
            m = (rows.ts >= start) & (rows.ts < start + step_s)
            point = fair.group_fairness(groups[m], selected[m], truth[m])
            item["series"].append({"start": start, **point})
        out.append(item)
    window_out = WindowData(window).out()
    window_out.rows, window_out.complete = rows.n, rows.complete
    return FairnessOut(deployment=deployment, window=window_out, positive_label=positive,
                       features=out)


"""Request and response models of monitoring: config, windows, reports, alert rules."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from steward.errors import InvalidInput
from steward.stats import STATISTICS

_DURATION = re.compile(r"^(\d+)([mhdw])$")
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_LAST = 100_000


def parse_duration(text: str) -> timedelta:
    """``30m``, ``1h``, ``7d``, ``2w`` as a timedelta (whole minutes, at least one)."""
    match = _DURATION.match(text.strip())
    if not match or int(match.group(1)) < 1:
        raise InvalidInput(f"window {text!r} is not like 30m, 1h, 7d or 2w", field="window")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


class FeatureRule(BaseModel):
    """Drift test and threshold for one feature or output (None: the default)."""

    model_config = ConfigDict(extra="forbid")

    method: str | None = None
    threshold: float | None = None
    enabled: bool = True

    @field_validator("method")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        if value is not None and value not in STATISTICS:
            raise ValueError(f"unknown statistic; one of {', '.join(STATISTICS)}")
        return value


class MonitoringConfig(BaseModel):
    """Per-deployment monitoring settings; unset thresholds use each statistic's default."""

    model_config = ConfigDict(extra="forbid")

    method: str | None = Field(default=None, description="Default statistic for every feature.")
    threshold: float | None = None
    drift_share: float = Field(default=0.5, gt=0.0, le=1.0)
    features: dict[str, FeatureRule] = Field(default_factory=dict)
    outputs: dict[str, FeatureRule] = Field(default_factory=dict)
    min_completeness: float = Field(default=0.95, ge=0.0, le=1.0)
    constant_share: float = Field(default=0.99, gt=0.5, le=1.0)
    std_collapse: float = Field(default=0.1, gt=0.0, lt=1.0,
                                description="Output std below this share of the reference's.")
    fallback_jump: float = Field(default=0.1, gt=0.0, le=1.0)
    min_rows: int = Field(default=30, ge=1, description="Rows before silent checks fire.")
    positive_label: str | None = Field(default=None, description="Class counted as selected.")
    gauge_window: str = "1h"
    gauge_statistic: str = "psi"

    @field_validator("method", "gauge_statistic")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        if value is not None and value not in STATISTICS:
            raise ValueError(f"unknown statistic; one of {', '.join(STATISTICS)}")
        return value

    @field_validator("gauge_window")
    @classmethod
    def _window(cls, value: str) -> str:
        parse_duration(value)
        return value

    def rule(self, name: str, output: bool = False) -> FeatureRule:
        """The effective rule of a feature (or output)."""
        own = (self.outputs if output else self.features).get(name, FeatureRule())
        method = own.method or self.method
        threshold = own.threshold
        if threshold is None and method == self.method:
            threshold = self.threshold  # the global threshold belongs to the global method
        return FeatureRule(method=method, threshold=threshold, enabled=own.enabled)


class WindowOut(BaseModel):
    """The rows a report covers."""

    start: datetime | None
    end: datetime
    last: int | None = None
    requests: int
    rows: int
    unfolded_requests: int = 0
    complete: bool = True


class DriftOut(BaseModel):
    """Feature and output drift of one version over a window against its reference profile."""

    deployment: str
    version: str
    window: WindowOut
    dataset_drift: bool
    drifted_share: float
    drift_share: float
    features: list[dict[str, Any]]
    outputs: list[dict[str, Any]]


class QualityOut(BaseModel):
    """Completeness, violations, OOD and silent-failure checks over a window."""

    deployment: str
    version: str
    window: WindowOut
    error_rate: float | None
    fallback_rate: float | None
    previous_fallback_rate: float | None
    ood_rate: float | None
    features: list[dict[str, Any]]
    outputs: list[dict[str, Any]]
    checks: list[dict[str, Any]]


class PerformanceOut(BaseModel):
    """Latency, throughput and errors per version and route, feedback metrics, series."""

    deployment: str
    task: str
    window: WindowOut
    serving: list[dict[str, Any]]
    quality: dict[str, Any]
    series: list[dict[str, Any]]


class FairnessOut(BaseModel):
    """Selection rate per group and parity differences per protected feature."""

    deployment: str
    window: WindowOut
    positive_label: str | None
    features: list[dict[str, Any]]


Comparator = Literal[">", ">=", "<", "<="]


class AlertRuleCreate(BaseModel):
    """A new alert rule."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    deployment: str
    metric: str
    comparator: Comparator = ">"
    threshold: float
    window: str = "1h"
    version: str | None = None
    feature: str | None = None
    retrain: bool = Field(default=False, description="Mark alerts as retraining triggers.")
    auto_resolve: bool = False
    description: str = ""

    @model_validator(mode="after")
    def _valid(self) -> AlertRuleCreate:
        from steward.monitoring.alerts import METRICS

        if self.metric not in METRICS:
            raise ValueError(f"unknown metric; one of {', '.join(sorted(METRICS))}")
        parse_duration(self.window)
        return self


class AlertRuleOut(BaseModel):
    """A stored alert rule."""

    id: int
    name: str
    deployment: str
    metric: str
    comparator: str
    threshold: float
    window: str
    version: str | None
    feature: str | None
    retrain: bool
    auto_resolve: bool
    enabled: bool
    description: str
    created_by: str
    created_at: datetime


class AlertOut(BaseModel):
    """An alert (open or resolved)."""

    id: int
    rule_id: int
    deployment: str
    scope: dict[str, Any]
    metric: str
    value: float | None
    threshold: float
    status: str
    retrain: bool
    opened_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    note: str | None


class AlertResolve(BaseModel):
    """Close an alert."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = None

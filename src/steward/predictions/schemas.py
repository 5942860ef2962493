"""Request and response models of the prediction log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class FeedbackIn(BaseModel):
    """Ground truth (label or numeric value) and/or a business outcome for one request row."""

    model_config = ConfigDict(extra="forbid")

    request_id: str = Field(min_length=1, max_length=64)
    row: int = Field(default=0, ge=0)
    label: str | int | bool | None = None
    value: float | None = None
    outcome: float | None = None
    source: str | None = None

    @model_validator(mode="after")
    def _something(self) -> FeedbackIn:
        if self.label is None and self.value is None and self.outcome is None:
            raise ValueError("give at least one of label, value or outcome")
        return self


class FeedbackBatch(BaseModel):
    """Bulk feedback."""

    model_config = ConfigDict(extra="forbid")

    items: list[FeedbackIn] = Field(min_length=1, max_length=10000)


class PredictionOut(BaseModel):
    """A logged prediction (PII fields already masked at write time)."""

    request_id: str
    ts: datetime
    deployment: str
    environment: str
    model: str
    version: int
    route: str
    rows: int
    inputs: dict[str, Any]
    outputs: dict[str, Any] | None
    confidence: float | None
    latency_ms: float
    ood: list[Any]
    fallback: bool
    error: str | None
    caller: str | None
    purpose: str | None

"""Per-deployment serving policy: validation, timeouts, breaker, batching, shedding."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Policy(BaseModel):
    """Serving knobs of one deployment; every field has a production-sensible default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ood_policy: Literal["off", "flag", "reject"] = "flag"
    ood_margin: float = Field(default=0.1, ge=0.0, description="Fraction of the reference range "
                              "allowed beyond min/max before a value is out of distribution.")
    timeout_ms: float = Field(default=1000.0, gt=0.0)
    breaker_failures: int = Field(default=5, ge=1, description="Consecutive failures to open.")
    breaker_error_rate: float = Field(default=0.5, gt=0.0, le=1.0)
    breaker_window: int = Field(default=20, ge=2)
    breaker_cooldown_s: float = Field(default=10.0, gt=0.0)
    batching: bool = True
    max_batch_size: int = Field(default=32, ge=1, le=4096)
    max_batch_wait_ms: float = Field(default=0.0, ge=0.0, le=100.0)
    max_queue: int = Field(default=256, ge=1, description="In-flight requests before shedding.")
    idle_unload_s: float | None = Field(default=None, gt=0.0)

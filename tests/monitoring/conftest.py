"""Monitoring fixtures: a served cancer model, traffic through the real gateway, log records."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from steward.client import Client
from steward.errors import NotFound
from steward.monitoring import Monitor
from steward.state import AppState

CLASSES = ["malignant", "benign"]


@pytest.fixture(autouse=True)
def _quiet_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests drive monitoring rounds themselves; keep the background loop out of the way."""
    monkeypatch.setenv("STEWARD_MONITOR_INTERVAL_S", "3600")


@pytest.fixture
def state(app: FastAPI) -> AppState:
    """The app's services."""
    st: AppState = app.state.steward
    return st


@pytest.fixture
def monitor(state: AppState) -> Monitor:
    """The app's monitoring loop (run rounds by hand with ``run_once``)."""
    m: Monitor = state.extras["monitor"]
    return m


def register(admin: Client, name: str, artifact: bytes, filename: str, reference: Any,
             **meta: Any) -> dict[str, Any]:
    """Create the model if needed and register one version."""
    try:
        admin.get_model(name)
    except NotFound:
        admin.create_model(name, owner="ml-team@example.com")
    meta.setdefault("target", "target")
    return admin.register_version(name, artifact, reference, artifact_filename=filename, **meta)


@pytest.fixture
def cancer_dep(admin: Client, state: AppState, cancer_onnx: bytes,
               cancer_reference: bytes) -> str:
    """`cancer` v1 deployed as `cancer-live` through the REST API and applied at once."""
    register(admin, "cancer", cancer_onnx, "model.onnx", cancer_reference, classes=CLASSES)
    admin.create_deployment("cancer-live", "cancer", 1)
    state.revisions.poll_once()
    return "cancer-live"


@pytest.fixture
def send(http: TestClient, env: Any) -> Callable[..., list[str]]:
    """Score a frame through `POST /v1/models/{dep}:predict` in batches; returns request ids."""
    def go(dep: str, frame: pd.DataFrame, batch: int = 50) -> list[str]:
        ids = []
        headers = {"Authorization": f"Bearer {env.admin_key}"}
        for start in range(0, len(frame), batch):
            part = frame.iloc[start:start + batch]
            r = http.post(f"/v1/models/{dep}:predict", headers=headers,
                          json={"instances": part.to_dict(orient="records")})
            assert r.status_code == 200, r.text
            ids.append(r.headers.get("x-request-id") or r.json().get("id"))
        return ids
    return go


def flush(state: AppState) -> None:
    """Ship spooled prediction records to the database now."""
    state.flush_log()


def record(dep: str, version_id: int, inputs: dict[str, list[Any]],
           outputs: dict[str, Any] | None, *, ts: float | None = None, route: str = "champion",
           latency_ms: float = 5.0, fallback: bool = False, error: str | None = None,
           ood: list[str] | None = None) -> dict[str, Any]:
    """A prediction-log record as one mapping of every column (`records.encode_records`)."""
    rows = len(next(iter(inputs.values())))
    return {"request_id": uuid.uuid4().hex, "ts": time.time() if ts is None else ts,
            "deployment": dep, "environment": "dev", "model": "cancer", "version": 1,
            "version_id": version_id, "route": route, "rows": rows, "inputs": inputs,
            "outputs": outputs, "confidence": None, "latency_ms": latency_ms,
            "ood": ood or [], "fallback": fallback, "error": error, "caller": "test",
            "purpose": None}


def upper_half(frame: pd.DataFrame, columns: list[str], seed: int = 7) -> pd.DataFrame:
    """Replace `columns` with values drawn from the upper half of their own distribution."""
    rng = np.random.default_rng(seed)
    out = frame.copy()
    for col in columns:
        values = frame[col].to_numpy()
        top = values[values >= np.median(values)]
        out[col] = rng.choice(top, size=len(frame)).astype(values.dtype)
    return out

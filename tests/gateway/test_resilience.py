"""Fallbacks, circuit breaker, load shedding and micro-batching, on real (broken) models."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from steward.errors import NotFound
from steward.state import AppState
from tests.conftest import Env
from tests.gateway.conftest import bearer, oip_row, register


def _tamper(env: Env, digest: str) -> tuple[Path, bytes]:
    path = next((env.settings.home / "artifacts").rglob(digest))
    original = path.read_bytes()
    blob = bytearray(original)
    blob[-10] ^= 0xFF
    path.write_bytes(bytes(blob))
    return path, original


def test_broken_champion_falls_back_to_the_rule_version(
        http: TestClient, admin: Any, env: Env, state: AppState, deploy: Callable[..., Any],
        service_key: str, cancer_onnx: bytes, rules_yaml: bytes, cancer_reference: bytes,
        cancer_features: pd.DataFrame, caplog: Any) -> None:
    v1 = register(admin, "cancer", cancer_onnx, "model.onnx", cancer_reference)
    register(admin, "cancer", rules_yaml, "rules.yaml", cancer_reference)
    _tamper(env, v1["artifact_digest"])
    deploy("triage", fallback={"version": 2})
    r = http.post("/v2/models/triage/infer", json=oip_row(cancer_features),
                  headers=bearer(service_key, **{"x-request-id": "fb-1"}))
    assert r.status_code == 200, r.text
    assert r.headers["x-route"] == "fallback" and r.headers["x-model-version"] == "cancer:2"
    assert r.json()["parameters"]["fallback"] is True
    state.flush_log()
    (logged,) = admin.get_prediction("fb-1")
    assert logged["route"] == "fallback" and logged["fallback"] is True
    assert logged["error"] == "IntegrityError"


def test_no_fallback_is_a_clean_503_and_default_answers(
        http: TestClient, admin: Any, env: Env, state: AppState, deploy: Callable[..., Any],
        service_key: str, cancer_onnx: bytes, cancer_reference: bytes,
        cancer_features: pd.DataFrame) -> None:
    v1 = register(admin, "cancer", cancer_onnx, "model.onnx", cancer_reference)
    _tamper(env, v1["artifact_digest"])
    deploy("bare")
    deploy("defaulted", fallback_default={"label": "1", "probabilities": [0.5, 0.5]})
    r = http.post("/v2/models/bare/infer", json=oip_row(cancer_features),
                  headers=bearer(service_key))
    assert r.status_code == 503 and r.json() == {"error": "model failed"}
    assert "retry-after" in r.headers
    d = http.post("/v2/models/defaulted/infer", json=oip_row(cancer_features),
                  headers=bearer(service_key))
    assert d.status_code == 200 and d.headers["x-route"] == "fallback"
    outputs = {o["name"]: o["data"] for o in d.json()["outputs"]}
    assert outputs == {"label": ["1"], "probabilities": [0.5, 0.5]}


def test_breaker_opens_then_half_opens(http: TestClient, admin: Any, env: Env,
                                       deploy: Callable[..., Any], service_key: str,
                                       cancer_onnx: bytes, cancer_reference: bytes,
                                       cancer_features: pd.DataFrame) -> None:
    v1 = register(admin, "cancer", cancer_onnx, "model.onnx", cancer_reference)
    path, original = _tamper(env, v1["artifact_digest"])
    deploy("triage", fallback_default={"label": "1"},
           policy={"breaker_failures": 2, "breaker_cooldown_s": 0.3})

    def reason() -> str | None:
        r = http.post("/v2/models/triage/infer", json=oip_row(cancer_features),
                      headers=bearer(service_key))
        assert r.status_code == 200
        params: dict[str, Any] = r.json()["parameters"]
        return params.get("fallback_reason")

    assert [reason(), reason(), reason()] == ["model_error", "model_error", "circuit_open"]
    path.write_bytes(original)  # the model is repaired
    assert reason() == "circuit_open"  # still cooling down
    deadline = time.monotonic() + 10
    while (got := reason()) == "circuit_open" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert got is None  # the half-open probe succeeded and closed the circuit
    assert reason() is None


async def _concurrent(app: FastAPI, key: str, body: dict[str, Any], n: int
                      ) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        return list(await asyncio.gather(*(
            client.post("/v2/models/triage/infer", json=body, headers=bearer(key))
            for _ in range(n))))


def test_shedding_answers_503_with_retry_after(http: TestClient, app: FastAPI,
                                               cancer_model: dict[str, Any],
                                               deploy: Callable[..., Any], service_key: str,
                                               cancer_features: pd.DataFrame) -> None:
    # A 50 ms batching window holds the first request in flight; the rest find it full.
    deploy("triage", policy={"max_queue": 1, "max_batch_wait_ms": 50})
    responses = asyncio.run(_concurrent(app, service_key, oip_row(cancer_features), 5))
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 503, 503, 503, 503]
    shed = next(r for r in responses if r.status_code == 503)
    assert shed.headers["retry-after"] == "1" and "capacity" in shed.json()["error"]


def test_concurrent_rows_are_batched(http: TestClient, app: FastAPI, state: AppState,
                                     cancer_model: dict[str, Any], deploy: Callable[..., Any],
                                     service_key: str, cancer_features: pd.DataFrame) -> None:
    # A 100 ms window: the eight in-process requests all arrive well within it.
    deploy("triage", policy={"max_batch_wait_ms": 100})
    responses = asyncio.run(_concurrent(app, service_key, oip_row(cancer_features), 8))
    assert {r.status_code for r in responses} == {200}
    (entry,) = state.extras["gateway"].cache.entries()
    assert entry.batches[-1] == 8  # eight requests, one model call
    labels = {r.json()["outputs"][0]["data"][0] for r in responses}
    assert len(labels) == 1


def test_an_unwritable_prediction_log_refuses_the_answer(
        http: TestClient, admin: Any, state: AppState, deploy: Callable[..., Any],
        service_key: str, cancer_model: dict[str, Any], cancer_features: pd.DataFrame) -> None:
    deploy("triage")
    deploy("unbatched", policy={"batching": False})
    body = oip_row(cancer_features)
    assert http.post("/v2/models/triage/infer", json=body,
                     headers=bearer(service_key)).status_code == 200
    spool_fd = state.spool._fd  # the disk fills up: every write now fails with ENOSPC
    saved = os.dup(spool_fd)
    full = os.open("/dev/full", os.O_WRONLY)
    os.dup2(full, spool_fd)
    try:
        for name in ("triage", "unbatched"):
            r = http.post(f"/v2/models/{name}/infer", json=body,
                          headers=bearer(service_key, **{"x-request-id": f"full-{name}"}))
            assert r.status_code == 503 and "retry-after" in r.headers, r.text
            assert r.json() == {"error": "prediction log not written (OSError)"}
            assert "outputs" not in r.json()
    finally:
        os.dup2(saved, spool_fd)
        os.close(saved)
        os.close(full)
    state.flush_log()
    for name in ("triage", "unbatched"):
        with pytest.raises(NotFound):
            admin.get_prediction(f"full-{name}")
    assert http.post("/v2/models/triage/infer", json=body,
                     headers=bearer(service_key)).status_code == 200

"""Prediction log records (complete, PII masked) and out-of-distribution handling."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import yaml
from fastapi.testclient import TestClient

from steward.state import AppState
from tests.gateway.conftest import bearer, oip_row, register


def test_log_record_is_complete_and_pii_is_masked(
        http: TestClient, admin: Any, state: AppState, deploy: Callable[..., Any],
        service_key: str, cancer_onnx: bytes, cancer_reference: bytes,
        cancer_features: pd.DataFrame) -> None:
    register(admin, "cancer", cancer_onnx, "model.onnx", cancer_reference,
             classes=["malignant", "benign"], pii=["mean radius"])
    deploy("triage")
    r = http.post("/v2/models/triage/infer", json=oip_row(cancer_features, 3),
                  headers=bearer(service_key, **{"x-request-id": "log-1"}))
    assert r.status_code == 200, r.text
    state.flush_log()
    (rec,) = admin.get_prediction("log-1")
    assert rec["deployment"] == "triage" and rec["environment"] == "dev"
    assert (rec["model"], rec["version"], rec["route"], rec["rows"]) == ("cancer", 1,
                                                                         "champion", 1)
    radius = rec["inputs"]["mean radius"]
    assert len(radius) == 1 and str(radius[0]).startswith("pii:")
    assert str(cancer_features.iloc[3]["mean radius"]) not in str(rec["inputs"])
    assert rec["inputs"]["mean texture"] == [float(cancer_features.iloc[3]["mean texture"])]
    assert rec["outputs"]["label"] == r.json()["outputs"][0]["data"]
    assert 0.5 <= rec["confidence"] <= 1.0 and rec["latency_ms"] > 0
    assert rec["fallback"] is False and rec["error"] is None and rec["ood"] == []
    assert rec["caller"] == service_key.split("_")[1]


def test_out_of_distribution_flag_and_reject(
        http: TestClient, admin: Any, state: AppState, deploy: Callable[..., Any],
        service_key: str, cancer_onnx: bytes, cancer_reference: bytes,
        cancer_features: pd.DataFrame) -> None:
    register(admin, "cancer", cancer_onnx, "model.onnx", cancer_reference)
    contract = yaml.safe_load(admin.contract_yaml("cancer", 1))
    for f in contract["features"]:  # no hard ranges: only the profile judges
        f.pop("min", None)
        f.pop("max", None)
    register(admin, "open", cancer_onnx, "model.onnx", cancer_reference,
             contract_yaml=yaml.safe_dump({"features": contract["features"]}))
    deploy("flagging", model="open")
    deploy("strict", model="open", policy={"ood_policy": "reject"})
    body = oip_row(cancer_features)
    body["inputs"][0]["data"][0] = 500.0  # mean radius far beyond the reference range
    body["inputs"][0]["data"][2] = -50.0  # mean perimeter too
    r = http.post("/v2/models/flagging/infer", json=body,
                  headers=bearer(service_key, **{"x-request-id": "ood-1"}))
    assert r.status_code == 200, r.text
    assert r.json()["parameters"]["ood"] == ["mean radius", "mean perimeter"]
    state.flush_log()
    assert admin.get_prediction("ood-1")[0]["ood"] == ["mean radius", "mean perimeter"]
    rejected = http.post("/v2/models/strict/infer", json=body, headers=bearer(service_key))
    assert rejected.status_code == 422
    assert [e["field"] for e in rejected.json()["errors"]] == ["mean radius", "mean perimeter"]
    fine = http.post("/v2/models/strict/infer", json=oip_row(cancer_features),
                     headers=bearer(service_key))
    assert fine.status_code == 200 and "ood" not in fine.json()["parameters"]

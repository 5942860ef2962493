"""Open Inference Protocol v2 through the real app: infer, metadata, health, errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from fastapi.testclient import TestClient

from steward.state import AppState
from tests.gateway.conftest import CLASSES, bearer, oip_row


def test_infer_one_2d_tensor(http: TestClient, cancer_model: dict[str, Any],
                             deploy: Callable[..., Any], service_key: str,
                             cancer_features: pd.DataFrame, cancer_lr: Any) -> None:
    deploy("triage")
    r = http.post("/v2/models/triage/infer", json=oip_row(cancer_features, 0),
                  headers=bearer(service_key, **{"x-request-id": "req-1"}))
    assert r.status_code == 200, r.text
    body = r.json()
    assert r.headers["x-request-id"] == "req-1"
    assert r.headers["x-model-version"] == "cancer:1" == body["model_version"]
    assert r.headers["x-route"] == "champion"
    assert body["model_name"] == "triage" and body["id"] == "req-1"
    assert body["parameters"]["request_id"] == "req-1"
    outputs = {o["name"]: o for o in body["outputs"]}
    expected = cancer_lr.predict_proba(cancer_features.iloc[[0]].to_numpy())  # type: ignore[attr-defined]
    assert outputs["label"]["datatype"] == "BYTES" and outputs["label"]["shape"] == [1]
    assert outputs["label"]["data"] == [CLASSES[int(np.argmax(expected[0]))]]
    assert outputs["probabilities"]["datatype"] == "FP32"
    assert outputs["probabilities"]["shape"] == [1, 2]
    np.testing.assert_allclose(outputs["probabilities"]["data"], expected[0], atol=1e-4)


def test_named_inputs_nested_data_outputs_filter_and_id(
        http: TestClient, cancer_model: dict[str, Any], deploy: Callable[..., Any],
        service_key: str, cancer_features: pd.DataFrame) -> None:
    deploy("triage")
    rows = cancer_features.iloc[:3]
    named = {"id": "mine", "outputs": [{"name": "label"}],
             "inputs": [{"name": c, "shape": [3], "datatype": "FP64",
                         "data": rows[c].tolist()} for c in rows.columns]}
    r = http.post("/v2/models/triage/infer", json=named, headers=bearer(service_key))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == "mine" and len(r.headers["x-request-id"]) == 32
    assert [o["name"] for o in body["outputs"]] == ["label"]
    nested = {"inputs": [{"name": "x", "shape": [3, 30], "datatype": "FP32",
                          "data": rows.to_numpy().tolist()}]}
    r2 = http.post("/v2/models/triage/infer", json=nested, headers=bearer(service_key))
    assert r2.status_code == 200, r2.text
    assert r2.json()["id"] == r2.headers["x-request-id"]
    assert r2.json()["outputs"][0]["data"] == body["outputs"][0]["data"]
    bad = http.post("/v2/models/triage/infer", json={**nested, "outputs": [{"name": "nope"}]},
                    headers=bearer(service_key))
    assert bad.status_code == 422 and "nope" in bad.json()["error"]


def test_metadata_and_health(http: TestClient, cancer_model: dict[str, Any],
                             deploy: Callable[..., Any], service_key: str) -> None:
    deploy("triage")
    assert http.get("/v2/health/live").json() == {"live": True}
    assert http.get("/v2/health/ready").status_code == 200
    assert http.get("/v2").json()["name"] == "steward"
    meta = http.get("/v2/models/triage", headers=bearer(service_key))
    assert meta.status_code == 200, meta.text
    doc = meta.json()
    assert doc["name"] == "triage" and doc["versions"] == ["cancer:1"]
    assert len(doc["inputs"]) == 30 and doc["inputs"][0] == {
        "name": "mean radius", "datatype": "FP64", "shape": [-1]}
    assert doc["parameters"]["classes"] == CLASSES
    assert {o["name"]: o["shape"] for o in doc["outputs"]} == {
        "label": [-1], "probabilities": [-1, 2]}
    assert http.get("/v2/models/triage/versions/1", headers=bearer(service_key)).json()[
        "parameters"]["model_version"] == "cancer:1"
    ready = http.get("/v2/models/triage/ready", headers=bearer(service_key))
    assert ready.status_code == 200 and ready.json()["ready"] is True
    assert http.get("/v2/models/triage/versions/9/ready",
                    headers=bearer(service_key)).status_code == 404


def test_auth_rules(http: TestClient, admin: Any, cancer_model: dict[str, Any],
                    deploy: Callable[..., Any], cancer_features: pd.DataFrame) -> None:
    deploy("triage")
    body = oip_row(cancer_features)
    assert http.post("/v2/models/triage/infer", json=body).status_code == 401
    assert http.post("/v2/models/triage/infer", json=body,
                     headers=bearer("stw_000000000000_nope")).status_code == 401
    other = admin.create_key("other", "service", scopes=["predict:elsewhere"])["key"]
    viewer = admin.create_key("viewer", "viewer")["key"]
    prod_only = admin.create_key("prod", "service", environments=["production"])["key"]
    # No right to know the deployment exists: same 404 as a deployment that does not.
    unknown = http.post("/v2/models/ghost/infer", json=body, headers=bearer(other))
    hidden = http.post("/v2/models/triage/infer", json=body, headers=bearer(other))
    assert unknown.status_code == hidden.status_code == 404
    assert hidden.json()["error"] == "deployment 'triage' not found"
    assert http.post("/v2/models/triage/infer", json=body,
                     headers=bearer(prod_only)).status_code == 404
    # May read it but not call it: 403.
    assert http.post("/v2/models/triage/infer", json=body,
                     headers=bearer(viewer)).status_code == 403


def test_purpose_limitation(http: TestClient, admin: Any, cancer_onnx: bytes,
                            cancer_reference: bytes, deploy: Callable[..., Any],
                            service_key: str, cancer_features: pd.DataFrame) -> None:
    from tests.gateway.conftest import register
    register(admin, "scored", cancer_onnx, "m.onnx", cancer_reference,
             allowed_purposes=["triage"])
    deploy("p", model="scored")
    body = oip_row(cancer_features)
    assert http.post("/v2/models/p/infer", json=body,
                     headers=bearer(service_key)).status_code == 403
    assert http.post("/v2/models/p/infer", json=body, headers=bearer(
        service_key, **{"x-steward-purpose": "marketing"})).status_code == 403
    ok = http.post("/v2/models/p/infer", json=body, headers=bearer(
        service_key, **{"x-steward-purpose": "triage"}))
    assert ok.status_code == 200, ok.text


def test_malformed_and_contract_violations(http: TestClient, cancer_model: dict[str, Any],
                                           deploy: Callable[..., Any], service_key: str,
                                           cancer_features: pd.DataFrame) -> None:
    deploy("triage")
    h = bearer(service_key)
    url = "/v2/models/triage/infer"
    assert http.post(url, content=b"{not json", headers=h).status_code == 400
    assert http.post(url, json={"inputs": []}, headers=h).status_code == 400
    wrong_type = {"inputs": [{"name": "x", "shape": [1, 30], "datatype": "FP99", "data": []}]}
    assert http.post(url, json=wrong_type, headers=h).status_code == 400
    short = {"inputs": [{"name": "x", "shape": [2, 30], "datatype": "FP32",
                         "data": cancer_features.iloc[0].tolist()}]}
    assert http.post(url, json=short, headers=h).status_code == 400
    row = cancer_features.iloc[0].tolist()
    row[0] = 1e6          # mean radius far outside the reference: out of distribution
    row[1] = None         # mean texture null, not nullable
    row[2] = "wide"       # mean perimeter not a number
    r = http.post(url, json={"inputs": [{"name": "x", "shape": [1, 30], "datatype": "FP64",
                                         "data": row}]}, headers=h)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["mean perimeter"]
    row[2] = 100.0
    r = http.post(url, json={"inputs": [{"name": "x", "shape": [1, 30], "datatype": "FP64",
                                         "data": row}]}, headers=h)
    assert r.status_code == 422
    fields = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert set(fields) == {"mean texture"} and "null" in fields["mean texture"]
    row[1] = 10.0  # valid now; the inferred contract has no hard range, so OOD is flagged
    r = http.post(url, json={"inputs": [{"name": "x", "shape": [1, 30], "datatype": "FP64",
                                         "data": row}]}, headers=h)
    assert r.status_code == 200 and r.json()["parameters"]["ood"] == ["mean radius"]
    named = {"inputs": [{"name": "mean radius", "shape": [1], "datatype": "FP32", "data": [14.0]},
                        {"name": "colour", "shape": [1], "datatype": "BYTES", "data": ["red"]}]}
    r = http.post(url, json=named, headers=h)
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert "colour" in fields
    r = http.post(url, json={"inputs": named["inputs"][:1]}, headers=h)
    assert r.status_code == 422 and len(r.json()["errors"]) == 29


def test_kserve_v1_records_and_rows(http: TestClient, cancer_model: dict[str, Any],
                                    deploy: Callable[..., Any], service_key: str,
                                    cancer_features: pd.DataFrame) -> None:
    deploy("triage")
    rows = cancer_features.iloc[:2]
    records = http.post("/v1/models/triage:predict", headers=bearer(service_key),
                        json={"instances": rows.to_dict(orient="records")})
    assert records.status_code == 200, records.text
    preds = records.json()["predictions"]
    assert len(preds) == 2 and set(preds[0]["probabilities"]) == set(CLASSES)
    assert preds[0]["label"] in CLASSES
    as_rows = http.post("/v1/models/triage:predict", headers=bearer(service_key),
                        json={"instances": rows.to_numpy().tolist()})
    assert as_rows.status_code == 200
    assert [p["label"] for p in as_rows.json()["predictions"]] == [p["label"] for p in preds]
    assert records.headers["x-model-version"] == "cancer:1"


def test_sdk_predict_goes_through_the_gateway(admin: Any, cancer_model: dict[str, Any],
                                              deploy: Callable[..., Any],
                                              cancer_features: pd.DataFrame,
                                              state: AppState) -> None:
    deploy("triage")
    out = admin.predict("triage", cancer_features.iloc[:4])
    assert len(out["predictions"]) == 4

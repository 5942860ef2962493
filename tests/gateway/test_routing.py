"""Canary share and stickiness, rollback, shadows, through the real app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
from fastapi.testclient import TestClient

from steward.state import AppState
from tests.gateway.conftest import apply, bearer, oip_row, register


def _two_versions(admin: Any, cancer_onnx: bytes, cancer_skops: bytes,
                  cancer_reference: bytes) -> None:
    register(admin, "cancer", cancer_onnx, "model.onnx", cancer_reference)
    register(admin, "cancer", cancer_skops, "model.skops", cancer_reference)


def test_canary_share_is_sticky_and_rollback_restores(
        http: TestClient, admin: Any, state: AppState, deploy: Callable[..., Any],
        service_key: str, cancer_onnx: bytes, cancer_skops: bytes, cancer_reference: bytes,
        cancer_features: pd.DataFrame) -> None:
    _two_versions(admin, cancer_onnx, cancer_skops, cancer_reference)
    deploy("triage")
    admin.update_deployment("triage", canary={"version": 2}, canary_share=0.1)
    apply(state)
    body = oip_row(cancer_features)
    routes = {}
    for i in range(2000):
        r = http.post("/v2/models/triage/infer", json=body,
                      headers=bearer(service_key, **{"x-routing-key": f"customer-{i}"}))
        assert r.status_code == 200
        routes[i] = (r.headers["x-route"], r.headers["x-model-version"])
    canary = [i for i, (route, _) in routes.items() if route == "canary"]
    assert 140 <= len(canary) <= 260  # 10 % of 2,000 = 200, +-4.5 sigma
    assert {routes[i][1] for i in canary} == {"cancer:2"}
    for i in list(routes)[:200]:  # the same key always lands on the same arm
        r = http.post("/v2/models/triage/infer", json=body,
                      headers=bearer(service_key, **{"x-routing-key": f"customer-{i}"}))
        assert (r.headers["x-route"], r.headers["x-model-version"]) == routes[i]
    admin.rollback("triage", reason="canary looks wrong")
    apply(state)
    for i in canary[:20]:
        r = http.post("/v2/models/triage/infer", json=body,
                      headers=bearer(service_key, **{"x-routing-key": f"customer-{i}"}))
        assert r.headers["x-route"] == "champion" and r.headers["x-model-version"] == "cancer:1"


def test_routing_key_from_an_input_field(http: TestClient, admin: Any, state: AppState,
                                         deploy: Callable[..., Any], service_key: str,
                                         cancer_onnx: bytes, cancer_skops: bytes,
                                         cancer_reference: bytes,
                                         cancer_features: pd.DataFrame) -> None:
    _two_versions(admin, cancer_onnx, cancer_skops, cancer_reference)
    deploy("triage", routing_key="customer_id")
    admin.update_deployment("triage", canary={"version": 2}, canary_share=0.5)
    apply(state)
    record = cancer_features.iloc[0].to_dict()
    seen = set()
    for i in range(40):
        r = http.post("/v1/models/triage:predict", headers=bearer(service_key),
                      json={"instances": [{**record, "customer_id": f"c{i}"}]})
        assert r.status_code == 200, r.text
        again = http.post("/v1/models/triage:predict", headers=bearer(service_key),
                          json={"instances": [{**record, "customer_id": f"c{i}"}]})
        assert again.headers["x-route"] == r.headers["x-route"]
        seen.add(r.headers["x-route"])
    assert seen == {"champion", "canary"}


def test_shadow_is_logged_and_never_changes_the_answer(
        http: TestClient, admin: Any, state: AppState, deploy: Callable[..., Any],
        service_key: str, cancer_onnx: bytes, rules_yaml: bytes, cancer_reference: bytes,
        cancer_features: pd.DataFrame) -> None:
    register(admin, "cancer", cancer_onnx, "model.onnx", cancer_reference)
    register(admin, "cancer", rules_yaml, "rules.yaml", cancer_reference)
    deploy("triage")
    body = oip_row(cancer_features, 5)
    before = http.post("/v2/models/triage/infer", json=body, headers=bearer(service_key)).json()
    admin.update_deployment("triage", shadows=[{"version": 2}])
    apply(state)
    r = http.post("/v2/models/triage/infer", json=body,
                  headers=bearer(service_key, **{"x-request-id": "shadowed-1"}))
    assert r.status_code == 200 and r.headers["x-route"] == "champion"
    assert r.json()["outputs"] == before["outputs"]
    gateway = state.extras["gateway"]
    gateway.shadows.join()
    state.flush_log()
    logged = {p["route"]: p for p in admin.get_prediction("shadowed-1")}
    assert set(logged) == {"champion", "shadow"}
    assert logged["shadow"]["version"] == 2 and logged["champion"]["version"] == 1
    assert logged["shadow"]["outputs"]["label"]

"""Deployments through the real HTTP app: routing changes, contract checks, rollback, reports."""

from __future__ import annotations

import time
import uuid

import pytest
from fastapi import FastAPI

from steward.client import Client
from steward.errors import Conflict, InvalidInput
from steward.predictions.records import encode_records
from tests.registry.test_api import _register


@pytest.fixture
def three_versions(admin: Client, cancer_onnx: bytes, cancer_skops: bytes, rules_yaml: bytes,
                   cancer_reference: bytes) -> Client:
    for blob, name in ((cancer_onnx, "m.onnx"), (cancer_skops, "m.skops"),
                       (rules_yaml, "rules.yaml")):
        _register(admin, "cancer", blob, name, cancer_reference, target="target")
    return admin


def test_canary_promote_and_rollback(three_versions: Client) -> None:
    admin = three_versions
    d = admin.create_deployment("triage", "cancer", 1, environment="dev",
                                fallback={"version": 3})
    assert d["champion"] == "cancer:1" and d["fallback"] == "cancer:3"
    d = admin.update_deployment("triage", canary={"version": 2}, canary_share=0.1)
    assert d["canary"] == "cancer:2" and d["canary_share"] == 0.1
    d = admin.update_deployment("triage", champion={"version": 2})
    assert d["champion"] == "cancer:2" and d["canary"] is None  # promotion ends the rollout
    d = admin.rollback("triage", reason="regression")
    assert d["champion"] == "cancer:1" and d["canary"] == "cancer:2"
    actions = [e["action"] for e in admin.deployment_events("triage")]
    assert actions == ["rollback", "change", "change", "create"]
    with pytest.raises(Conflict, match="in use"):
        admin.delete_version("cancer", 2)


def test_canary_share_needs_a_canary(three_versions: Client) -> None:
    three_versions.create_deployment("d", "cancer", 1)
    with pytest.raises(InvalidInput, match="canary"):
        three_versions.update_deployment("d", canary_share=0.5)


def test_breaking_contract_change_is_refused_unless_forced(
        admin: Client, cancer_onnx: bytes, cancer_reference: bytes) -> None:
    import yaml

    _register(admin, "c", cancer_onnx, "m.onnx", cancer_reference, target="target")
    contract = yaml.safe_load(admin.contract_yaml("c", 1))
    contract["features"][0]["min"] = 0.0  # version 2 refuses negative radii ...
    _register(admin, "c", cancer_onnx, "m.onnx", cancer_reference, target="target",
              contract_yaml=yaml.safe_dump(contract))
    # ... so moving from 1 (unbounded) to 2 narrows the accepted range: breaking for callers
    admin.create_deployment("c-prod", "c", 1, environment="dev")
    with pytest.raises(Conflict, match="breaking"):
        admin.update_deployment("c-prod", champion={"version": 2})
    with pytest.raises(InvalidInput, match="reason"):
        admin.update_deployment("c-prod", champion={"version": 2}, force=True)
    d = admin.update_deployment("c-prod", champion={"version": 2}, force=True,
                                reason="new data floor agreed with callers")
    assert d["champion"] == "c:2"
    event = admin.deployment_events("c-prod")[0]
    assert event["forced"] is True and "agreed" in event["reason"]


def _record(rid: str, route: str, version: int, label: str, p: float,
            latency: float = 1.0) -> dict[str, object]:
    return {"request_id": rid, "ts": time.time(), "deployment": "triage",
            "environment": "dev", "model": "cancer", "version": version, "version_id": version,
            "route": route, "rows": 1, "inputs": {"x": [1.0]},
            "outputs": {"label": [label], "probabilities": [[1 - p, p]]}, "confidence": p,
            "latency_ms": latency, "ood": [], "fallback": False, "error": None,
            "caller": "k", "purpose": None}


def test_shadow_and_ab_reports(three_versions: Client, app: FastAPI) -> None:
    admin = three_versions
    admin.create_deployment("triage", "cancer", 1)
    admin.update_deployment("triage", canary={"version": 2}, canary_share=0.5, mode="ab",
                            shadows=[{"version": 3}])
    state = app.state.steward
    records, feedback = [], []
    for i in range(200):
        rid = uuid.uuid4().hex
        route, version = ("canary", 2) if i % 2 else ("champion", 1)
        records.append(_record(rid, route, version, "1", 0.9))
        records.append(_record(rid, "shadow", 3, "1" if i % 4 else "0", 0.7, latency=3.0))
        # the challenger converts 60% of the time, the champion 40%
        feedback.append({"request_id": rid, "outcome": float((i % 10) < (6 if i % 2 else 4))})
    state.spool.append(encode_records(records))
    state.flush_log()
    admin.feedback_bulk(feedback)
    shadow = admin.shadow_report("triage")["shadows"][0]
    assert shadow["shadow"] == "cancer:3" and shadow["compared"] == 200
    assert shadow["agreement_rate"] == pytest.approx(0.75)
    assert shadow["mean_abs_diff"] == pytest.approx(0.2)
    assert shadow["shadow_latency_ms"]["p50"] == pytest.approx(3.0)
    ab = admin.ab_report("triage")
    assert ab["arms"]["champion"]["with_feedback"] == 100
    assert ab["arms"]["canary"]["mean_outcome"] == pytest.approx(0.6)
    assert ab["outcome"] == "binary" and ab["test"]["test"] == "two_proportion_z"
    assert ab["test"]["effect"] == pytest.approx(0.2)
    assert ab["test"]["p_value"] < 0.01 and ab["test"]["significant"] is True


def test_dashboard_shows_shadow_and_ab_reports(three_versions: Client, app: FastAPI,
                                               http: object, env: object) -> None:
    from tests.ui.conftest import login

    admin = three_versions
    admin.create_deployment("triage", "cancer", 1)
    admin.update_deployment("triage", canary={"version": 2}, canary_share=0.5, mode="ab",
                            shadows=[{"version": 3}])
    state = app.state.steward
    rid = uuid.uuid4().hex
    state.spool.append(encode_records([_record(rid, "champion", 1, "1", 0.9),
                                       _record(rid, "shadow", 3, "0", 0.4)]))
    state.flush_log()
    admin.feedback(rid, outcome=1.0)
    login(http, env.admin_key)  # type: ignore[arg-type,attr-defined]
    page = http.get("/ui/deployments/triage").text  # type: ignore[attr-defined]
    assert 'id="shadow-report"' in page and "cancer:3" in page and "0.0%" in page
    assert 'id="ab-report"' in page and "two_proportion_z" in page

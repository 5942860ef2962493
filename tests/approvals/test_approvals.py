"""Promotion approvals end to end through the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from steward.client import Client
from steward.db import utcnow
from steward.errors import Conflict, InvalidInput, PermissionDenied
from steward.webhooks.signing import verify
from tests.approvals.receiver import Receiver
from tests.security.helpers import as_key, make_key, register_rules, state_of


@pytest.fixture
def people(admin: Client, http: TestClient) -> dict[str, Client]:
    """One SDK client per person; two approvers so quorum rules can be told apart."""
    keys = {"ds": ("data_scientist", {}), "ap": ("approver", {}), "ap2": ("approver", {}),
            "co": ("compliance", {}), "op": ("operator", {}), "viewer": ("viewer", {}),
            "ds_staging": ("data_scientist", {"environments": ["staging"]})}
    return {who: as_key(http, make_key(admin, who, role, **spec))
            for who, (role, spec) in keys.items()}


def _actions(admin: Client, **filters: Any) -> list[str]:
    return [e["action"] for e in admin.audit_entries(limit=1000, **filters)]


def test_four_eyes_quorum_and_replay(admin: Client, people: dict[str, Client], rules_yaml: bytes,
                                     cancer_reference: bytes) -> None:
    register_rules(admin, "churn", rules_yaml, cancer_reference, risk_tier="limited",
                   lineage={"metrics": {"auc": 0.93}})
    ds, ap = people["ds"], people["ap"]
    req = ds.request_approval("churn", 1, "production", thresholds={"auc": ">=0.9"},
                              reason="beats v0")
    assert req["status"] == "pending" and req["required_approvals"] == 1
    assert all(g["passed"] for g in req["gates"]), req["gates"]
    with pytest.raises(PermissionDenied):
        ds.approve(req["id"])  # a data scientist may not approve at all
    own = admin.request_approval("churn", 1, "staging")
    with pytest.raises(PermissionDenied, match="four eyes"):
        admin.approve(own["id"])  # and nobody approves their own request
    with pytest.raises(PermissionDenied):
        people["viewer"].approve(req["id"])
    assert admin.get_version("churn", 1)["status"] == "registered"

    done = ap.approve(req["id"], "looks good")
    assert done["status"] == "approved" and done["votes"][0]["approver"] == "ap"
    assert admin.get_version("churn", 1)["status"] == "production"
    with pytest.raises(Conflict, match="already approved"):
        ap.approve(req["id"])  # replay
    with pytest.raises(Conflict):
        people["ap2"].approve(req["id"])
    actions = _actions(admin, target=f"approval:{req['id']}")
    assert actions == ["approval.approved", "approval.requested"]
    status = admin.audit_entries(action="version.status")[0]
    assert status["actor"] == "ap" and status["after"] == {"status": "production"}
    assert status["request_id"] == admin.audit_entries(action="approval.approved")[0][
        "request_id"]


def test_high_risk_needs_evidence_and_compliance(admin: Client, people: dict[str, Client],
                                                 rules_yaml: bytes,
                                                 cancer_reference: bytes) -> None:
    register_rules(admin, "credit", rules_yaml, cancer_reference, risk_tier="high",
                   protected=["mean radius"])
    ds = people["ds"]
    first = ds.request_approval("credit", 1, "production")
    failing = {g["name"] for g in first["gates"] if not g["passed"]}
    assert failing == {"bias_assessment", "impact_assessment"}
    with pytest.raises(Conflict, match="impact_assessment"):
        people["co"].approve(first["id"])
    people["ap"].reject(first["id"], "no bias assessment")

    register_rules(admin, "credit", rules_yaml, cancer_reference, protected=["mean radius"],
                   bias_assessment="demographic parity difference 0.01 on radius bands")
    req = ds.request_approval("credit", 2, "production")
    assert req["required_approvals"] == 2 and req["compliance_required"]
    with pytest.raises(Conflict, match="impact_assessment"):
        people["ap"].approve(req["id"])
    attached = ds.attach_impact_assessment(req["id"], b"%PDF impact assessment",
                                           filename="dpia.pdf")
    assert attached["impact_digest"] and all(g["passed"] for g in attached["gates"])
    assert people["ap"].approve(req["id"])["status"] == "pending"
    with pytest.raises(Conflict, match="frozen"):
        ds.attach_impact_assessment(req["id"], b"another", filename="x.pdf")
    assert people["ap2"].approve(req["id"])["status"] == "pending"  # no compliance yet
    assert people["co"].approve(req["id"])["status"] == "approved"
    assert admin.get_version("credit", 2)["status"] == "production"
    assert admin.get_version("credit", 1)["status"] == "registered"


def test_metric_gate_and_rejection(admin: Client, people: dict[str, Client], rules_yaml: bytes,
                                   cancer_reference: bytes) -> None:
    register_rules(admin, "m", rules_yaml, cancer_reference, lineage={"metrics": {"auc": 0.8}})
    req = people["ds"].request_approval("m", 1, "staging", thresholds={"auc": ">=0.9",
                                                                       "f1": ">0.5"})
    gate = next(g for g in req["gates"] if g["name"] == "metrics")
    assert not gate["passed"] and "auc = 0.8" in gate["detail"] and "f1" in gate["detail"]
    with pytest.raises(Conflict, match="metrics"):
        people["ap"].approve(req["id"])
    with pytest.raises(InvalidInput):
        people["ap"].request("POST", f"/api/v1/approvals/{req['id']}/reject", json={})
    with pytest.raises(InvalidInput):
        people["ds"].request_approval("m", 1, "staging", thresholds={"auc": "high"})
    rejected = people["ap"].reject(req["id"], "auc below target")
    assert rejected["status"] == "rejected" and rejected["decision_reason"] == "auc below target"
    with pytest.raises(Conflict):
        people["co"].approve(req["id"])
    assert admin.get_version("m", 1)["status"] == "registered"


def test_production_needs_approval_and_rollback_is_flagged(
        admin: Client, people: dict[str, Client], rules_yaml: bytes,
        cancer_reference: bytes) -> None:
    register_rules(admin, "m", rules_yaml, cancer_reference)
    register_rules(admin, "m", rules_yaml, cancer_reference)
    ds, ap = people["ds"], people["ap"]
    ds.create_deployment("m-dev", "m", 1, environment="dev")
    with pytest.raises(Conflict, match="approved promotion"):
        ds.create_deployment("m-prod", "m", 1, environment="production")
    with pytest.raises(PermissionDenied, match="approval"):
        admin.request("PATCH", "/api/v1/models/m/versions/1", json={"status": "production"})
    with pytest.raises(PermissionDenied):
        people["ds_staging"].request_approval("m", 1, "production")
    with pytest.raises(PermissionDenied):
        people["ds_staging"].create_deployment("m-prod", "m", 1, environment="production")

    ap.approve(ds.request_approval("m", 1, "production")["id"])
    ds.create_deployment("m-prod", "m", 1, environment="production")
    with pytest.raises(Conflict, match="approved promotion"):
        ds.update_deployment("m-prod", champion={"version": 2})
    with pytest.raises(InvalidInput):
        ds.request_approval("m", 2, "staging", deployment="m-prod")
    req = ds.request_approval("m", 2, "production", deployment="m-prod")
    assert ap.approve(req["id"])["status"] == "approved"
    assert admin.get_deployment("m-prod")["champion"] == "m:2"

    people["op"].rollback("m-prod", "v2 misbehaves at 3am")
    assert admin.get_deployment("m-prod")["champion"] == "m:1"
    flags = people["co"].review_flags()
    assert [(f["kind"], f["target"], f["actor"]) for f in flags] == [
        ("emergency_rollback", "deployment:m-prod", "op")]
    assert "deployment.rollback" in _actions(admin, target="deployment:m-prod")
    people["co"].close_review_flag(flags[0]["id"], "justified: incident 42")
    assert people["co"].review_flags() == []


def test_webhooks_signed_and_retried(admin: Client, app: FastAPI, people: dict[str, Client],
                                     rules_yaml: bytes, cancer_reference: bytes) -> None:
    register_rules(admin, "m", rules_yaml, cancer_reference)
    with Receiver(fail_first=1) as receiver:
        hook = admin.create_webhook(receiver.url, secret="s" * 32)
        assert hook["secret"] == "s" * 32 and "secret" not in admin.list_webhooks()[0]
        req = people["ds"].request_approval("m", 1, "staging")
        people["ap"].approve(req["id"])
        sender = state_of(app).webhooks
        sender.deliver_once()  # the receiver refuses the first delivery with HTTP 500
        assert len(receiver.received) <= 1
        sender.deliver_once(now=utcnow() + timedelta(minutes=10))  # its retry is due
        assert sender.deliver_once(now=utcnow() + timedelta(minutes=20)) == 0
    events = [r["body"]["event"] for r in receiver.received]
    assert sorted(events) == ["approval.approved", "approval.requested"]
    for r in receiver.received:
        assert verify("s" * 32, r["timestamp"], r["raw"], r["signature"])
        assert not verify("t" * 32, r["timestamp"], r["raw"], r["signature"])
    assert len(receiver.attempts) == 3

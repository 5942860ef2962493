"""Dashboard fixtures: seeded demo data (real models, deployment, traffic, approvals)."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from steward.client import Client
from steward.errors import NotFound
from steward.state import AppState

MODEL = "cancer"
DEPLOYMENT = "triage"


@dataclass
class Seeded:
    """What `seed` created: keys by persona and the pending approval request."""

    keys: dict[str, str]
    approval_id: int
    requests: int


ClientFor = Callable[[str], AbstractContextManager[Client]]


def seed(admin: Client, client_for: ClientFor, state: AppState, *, onnx: bytes, skops: bytes,
         rules: bytes, reference: bytes, features: pd.DataFrame, requests: int = 40) -> Seeded:
    """Register three versions, deploy with canary + shadow, send traffic, open an approval."""
    admin.create_model(MODEL, owner="ml-team@example.com", team="oncology-ml",
                       description="Classifies biopsies as malignant or benign.",
                       use_case="Prioritise biopsy review", kpi="malignant recall",
                       risk_tier="limited", runbook_url="https://runbooks.example.com/cancer")
    meta: dict[str, Any] = {"target": "target"}
    admin.register_version(MODEL, onnx, reference, artifact_filename="model.onnx",
                           lineage={"data_uri": "sklearn://breast_cancer", "code_ref": "abc123",
                                    "hyperparameters": {"C": 1.0},
                                    "metrics": {"auc": 0.99, "accuracy": 0.96}}, **meta)
    admin.register_version(MODEL, skops, reference, artifact_filename="model.skops",
                           lineage={"metrics": {"auc": 0.98}}, **meta)
    admin.register_version(MODEL, rules, reference, artifact_filename="rules.yaml", **meta)
    admin.create_model("other", owner="someone@example.com")
    keys = {
        "admin": "",
        "approver": admin.create_key("alice", "compliance")["key"],
        "viewer_other": admin.create_key("olga", "viewer", scopes=["models:read:other"])["key"],
        "viewer_dev": admin.create_key("dave", "viewer", environments=["dev"])["key"],
        "service": admin.create_key("svc", "service")["key"],
    }
    with client_for(keys["approver"]) as approver:
        for version in (1, 2):  # serving in production needs an approved promotion (G1)
            promotion = admin.request_approval(MODEL, version, "production", reason="validated")
            request_id = int(promotion["id"])
            _eventually(lambda rid=request_id: approver.get_approval(rid))  # type: ignore[misc]
            approver.approve(request_id, reason="evidence reviewed")
    admin.set_alias(MODEL, "champion", 1)
    admin.set_alias(MODEL, "challenger", 2)
    admin.create_deployment(DEPLOYMENT, MODEL, 1, environment="production",
                            description="Biopsy triage queue")
    admin.update_deployment(DEPLOYMENT, canary={"version": 2}, canary_share=0.3)
    admin.update_deployment(DEPLOYMENT, shadows=[{"version": 3}])
    state.revisions.poll_once()
    for i in range(requests):
        admin.predict(DEPLOYMENT, features.iloc[[i]], headers={"x-routing-key": f"p-{i}"})
    state.flush_log()
    approval = admin.request_approval(MODEL, 3, "staging", reason="rule baseline for staging")
    return Seeded(keys=keys, approval_id=int(approval["id"]), requests=requests)


def _eventually(call: Callable[[], Any], timeout_s: float = 5.0) -> Any:
    """Retry a read until the previous response's transaction is visible.

    The API's session dependency commits after the response is sent (FastAPI >= 0.118 runs
    yield-dependency exits late), so over a real socket the next call can race the commit.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return call()
        except NotFound:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


@pytest.fixture
def seeded(admin: Client, http: TestClient, app: FastAPI, env: Any, cancer_onnx: bytes,
           cancer_skops: bytes, rules_yaml: bytes, cancer_reference: bytes,
           cancer_features: pd.DataFrame) -> Seeded:
    """Demo data in the `http` app's database."""
    def client_for(key: str) -> AbstractContextManager[Client]:
        return nullcontext(Client("http://testserver", key, http=http))

    out = seed(admin, client_for, app.state.steward, onnx=cancer_onnx, skops=cancer_skops,
               rules=rules_yaml, reference=cancer_reference, features=cancer_features)
    out.keys["admin"] = env.admin_key
    return out


def login(http: TestClient, key: str, next: str = "/ui") -> Any:
    """Sign in through the form as a browser would (CSRF cookie + hidden field)."""
    http.cookies.clear()
    http.get("/ui/login")
    csrf = http.cookies.get("steward_login_csrf")
    return http.post("/ui/login", data={"token": key, "csrf_token": csrf, "next": next},
                     follow_redirects=False)


def csrf_of(html: str) -> str:
    """The CSRF token in a page's forms."""
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]

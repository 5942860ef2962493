"""Scoped keys, escalation, revocation, rate limits and budgets, purposes, downloads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from steward import sync
from steward.client import Client
from steward.db import transaction, utcnow
from steward.errors import NotFound, PermissionDenied, TooManyRequests, Unauthenticated
from steward.security.authz import purpose_denial
from steward.security.limits import Limits
from steward.security.principal import Principal, Role
from steward.security.tables import ApiKey
from tests.security.helpers import as_key, make_key, register_rules, state_of


def test_keys_shown_once_and_no_escalation(admin: Client, http: TestClient, app: FastAPI
                                           ) -> None:
    created = admin.create_key("ops", "operator", environments=["staging"])
    assert created["key"].startswith("stw_") and "key" not in admin.list_keys()[0]
    with state_of(app).factory() as session:
        row = session.get_one(ApiKey, created["id"])
        assert created["key"].split("_", 2)[2] not in (row.secret_hash, repr(row))

    narrow = as_key(http, make_key(admin, "dev-admin", "admin", scopes=["keys:admin"],
                                   environments=["dev"], rate_limit_per_minute=10))
    for spec in ({"role": "admin"}, {"role": "viewer", "environments": ["production"]},
                 {"role": "admin", "scopes": ["*"], "environments": ["dev"]},
                 {"role": "viewer", "scopes": ["keys:admin"], "environments": ["dev"]}):
        with pytest.raises(PermissionDenied):
            narrow.create_key("x", **spec)  # type: ignore[arg-type]
    ok = narrow.create_key("x", "admin", scopes=["keys:admin"], environments=["dev"],
                           rate_limit_per_minute=5)
    assert ok["environments"] == ["dev"] and ok["rate_limit_per_minute"] == 5
    operator = as_key(http, created["key"])
    with pytest.raises(PermissionDenied):
        operator.create_key("y", "admin")
    assert admin.audit_entries(action="key.create")[0]["target"] == f"key:{ok['id']}"


def test_revoked_and_expired_keys_stop_working(admin: Client, http: TestClient,
                                               app: FastAPI) -> None:
    state = state_of(app)
    created = admin.create_key("temp", "viewer")
    viewer = as_key(http, created["key"])
    viewer.list_models()
    admin.revoke_key(created["id"])
    state.revisions.poll_once()  # what every worker's poller does within sync_interval_s
    with pytest.raises(Unauthenticated, match="revoked"):
        viewer.list_models()
    other = admin.create_key("short", "viewer", expires_in_days=1)
    with transaction(state.factory) as session:
        session.execute(update(ApiKey).where(ApiKey.id == other["id"])
                        .values(expires_at=utcnow() - timedelta(seconds=1)))
        sync.bump(session, "keys")
    state.revisions.poll_once()
    with pytest.raises(Unauthenticated, match="expired"):
        as_key(http, other["key"]).list_models()
    assert http.get("/api/v1/models", headers={"Authorization": "Basic abc"}).status_code == 401


def test_rate_limit_and_budget_shared_across_workers(app: FastAPI, http: TestClient) -> None:
    factory = state_of(app).factory
    key = Principal(key_id="k1", name="app", role=Role.service, rate_limit_per_minute=3,
                    daily_budget=5)
    worker_a, worker_b = Limits(factory), Limits(factory)
    worker_a.check(key)
    worker_a.check(key)
    worker_a.flush()
    worker_b.check(key)  # the third request of the minute, on another worker
    worker_b.flush()  # pushes its own and learns worker A's two
    with pytest.raises(TooManyRequests) as minute:
        worker_b.check(key)
    assert 0 < minute.value.retry_after <= 60 and "per minute" in minute.value.message
    unlimited = Principal(key_id="k2", name="x", role=Role.service)
    for _ in range(100):
        worker_b.check(unlimited)
    from steward.api.errors import error_response

    assert error_response(minute.value).headers["retry-after"]


def test_daily_budget(app: FastAPI, http: TestClient) -> None:
    limits = Limits(state_of(app).factory)
    key = Principal(key_id="k3", name="app", role=Role.service, daily_budget=2)
    limits.check(key, deployment="churn")
    limits.check(key, deployment="churn")
    with pytest.raises(TooManyRequests, match="daily budget") as exc:
        limits.check(key, deployment="churn")
    assert exc.value.retry_after <= 86400
    assert 0 < (limits(key, "churn") or 0) <= 86400  # the gateway's RateLimiter form
    limits.flush()
    fresh = Limits(state_of(app).factory)
    fresh.check(key)  # the documented overshoot: at most one flush interval's worth
    fresh.flush()
    with pytest.raises(TooManyRequests):
        fresh.check(key)


def test_purpose_limitation() -> None:
    anyone = Principal(key_id="a", name="a", role=Role.service)
    marketing = Principal(key_id="b", name="b", role=Role.service,
                          purposes=frozenset({"marketing"}))
    allowed = frozenset({"triage"})
    assert purpose_denial(anyone, allowed, "triage") is None
    assert "not among" in str(purpose_denial(anyone, allowed, "marketing"))
    assert "x-steward-purpose" in str(purpose_denial(anyone, allowed, None))
    assert purpose_denial(anyone, frozenset(), None) is None
    assert "may not be used" in str(purpose_denial(marketing, allowed, "triage"))


def test_artifact_download_is_restricted_and_audited(admin: Client, http: TestClient,
                                                     rules_yaml: bytes,
                                                     cancer_reference: bytes) -> None:
    register_rules(admin, "m", rules_yaml, cancer_reference)
    ds = as_key(http, make_key(admin, "ds", "data_scientist"))
    assert ds.download_artifact("m", 1) == rules_yaml
    with pytest.raises(PermissionDenied):
        as_key(http, make_key(admin, "v", "viewer")).download_artifact("m", 1)
    with pytest.raises(NotFound):
        as_key(http, make_key(admin, "s", "service")).download_artifact("m", 1)
    admin.create_model("locked", owner="o", allow_download=False)
    register_rules(admin, "locked", rules_yaml, cancer_reference)
    with pytest.raises(PermissionDenied, match="disabled"):
        ds.download_artifact("locked", 1)
    entry = admin.audit_entries(action="artifact.download")[0]
    assert (entry["actor"], entry["target"]) == ("ds", "model:m:1")
    with pytest.raises(NotFound):
        ds.get_model("..%2F..%2Fetc")

"""Every role x every management route x every environment: no unexpected allow.

Routes come from `app.routes`, so a new route without a line in RULES fails this test.
"""

from __future__ import annotations

import itertools
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from steward.client import Client
from steward.db import transaction
from steward.registry import service as registry
from steward.registry.schemas import VersionStatus
from steward.security.principal import ENVIRONMENTS, ROLE_OPERATIONS, Role
from tests.security.helpers import ROLES, make_key, register_rules, state_of

# (method, path) -> (operations any of which allows, where the right must hold)
#   public: no key needed; auth: any key (results filtered per caller);
#   global: no resource; model: the model named in the path (models span environments);
#   env: a resource living in one environment (deployment, approval target, request body);
#   missing: the referenced row does not exist, so allowed callers get a genuine 404.
RULES: dict[tuple[str, str], tuple[tuple[str, ...], str]] = {
    ("GET", "/openapi.json"): ((), "public"),
    ("GET", "/docs"): ((), "public"),
    ("GET", "/docs/oauth2-redirect"): ((), "public"),
    ("GET", "/api/v1/health"): ((), "public"),
    ("GET", "/metrics"): ((), "public"),  # Prometheus scrape: aggregates, no request data
    ("GET", "/api/v1/whoami"): ((), "auth"),
    ("POST", "/api/v1/models"): (("models:write",), "global"),
    ("GET", "/api/v1/models"): (("models:read",), "global"),
    ("GET", "/api/v1/models/{name}"): (("models:read",), "model"),
    ("POST", "/api/v1/models/{name}/versions"): (("models:write",), "model"),
    ("GET", "/api/v1/models/{name}/versions"): (("models:read",), "model"),
    ("GET", "/api/v1/models/{name}/versions/{ref}"): (("models:read",), "model"),
    ("PATCH", "/api/v1/models/{name}/versions/{ref}"): (("models:write",), "model"),
    ("DELETE", "/api/v1/models/{name}/versions/{ref}"): (("models:write",), "model"),
    ("GET", "/api/v1/models/{name}/versions/{ref}/contract"): (("models:read",), "model"),
    ("GET", "/api/v1/models/{name}/versions/{ref}/artifact"): (("artifacts:download",),
                                                               "model"),
    ("GET", "/api/v1/models/{name}/versions/{ref}/card"): (("models:read",), "model"),
    ("PUT", "/api/v1/models/{name}/aliases/{alias}"): (("models:write",), "model"),
    ("DELETE", "/api/v1/models/{name}/aliases/{alias}"): (("models:write",), "model"),
    ("POST", "/api/v1/deployments"): (("deploy",), "env"),
    ("GET", "/api/v1/deployments"): ((), "auth"),
    ("GET", "/api/v1/deployments/{name}"): (("deployments:read",), "env"),
    ("PATCH", "/api/v1/deployments/{name}"): (("deploy",), "env"),
    ("DELETE", "/api/v1/deployments/{name}"): (("deploy",), "env"),
    ("POST", "/api/v1/deployments/{name}/rollback"): (("deploy",), "env"),
    ("GET", "/api/v1/deployments/{name}/events"): (("deployments:read",), "env"),
    ("GET", "/api/v1/deployments/{name}/shadow-report"): (("deployments:read",), "env"),
    ("GET", "/api/v1/deployments/{name}/ab-report"): (("deployments:read",), "env"),
    ("GET", "/api/v1/predictions/{request_id}"): (("deployments:read",), "missing"),
    ("POST", "/api/v1/feedback"): (("feedback",), "global"),
    ("POST", "/api/v1/keys"): (("keys:admin",), "global"),
    ("GET", "/api/v1/keys"): (("keys:admin",), "global"),
    ("DELETE", "/api/v1/keys/{key_id}"): (("keys:admin",), "global"),
    ("POST", "/api/v1/approvals"): (("deploy",), "env"),
    ("GET", "/api/v1/approvals"): ((), "auth"),
    ("GET", "/api/v1/approvals/{request_id}"): (("models:read",), "model"),
    ("POST", "/api/v1/approvals/{request_id}/approve"): (("approve",), "env"),
    ("POST", "/api/v1/approvals/{request_id}/reject"): (("approve",), "env"),
    ("POST", "/api/v1/approvals/{request_id}/impact-assessment"): (("deploy", "approve"), "env"),
    ("GET", "/api/v1/reviews"): (("approve",), "global"),
    ("POST", "/api/v1/reviews/{flag_id}/close"): (("approve",), "missing"),
    ("GET", "/api/v1/audit"): (("audit:read",), "global"),
    ("GET", "/api/v1/audit/export"): (("audit:read",), "global"),
    ("GET", "/api/v1/audit/verify"): (("audit:read",), "global"),
    ("POST", "/api/v1/audit/digests"): (("audit:read",), "global"),
    ("GET", "/api/v1/audit/public-key"): (("audit:read",), "global"),
    ("POST", "/api/v1/webhooks"): (("keys:admin",), "global"),
    ("GET", "/api/v1/webhooks"): (("keys:admin",), "global"),
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"): (("keys:admin",), "global"),
    ("DELETE", "/api/v1/webhooks/{webhook_id}"): (("keys:admin",), "global"),
    ("GET", "/api/v1/monitoring/{deployment}/drift"): (("monitor:read",), "env"),
    ("GET", "/api/v1/monitoring/{deployment}/drift/report.html"): (("monitor:read",), "env"),
    ("GET", "/api/v1/monitoring/{deployment}/quality"): (("monitor:read",), "env"),
    ("GET", "/api/v1/monitoring/{deployment}/performance"): (("monitor:read",), "env"),
    ("GET", "/api/v1/monitoring/{deployment}/fairness"): (("monitor:read",), "env"),
    ("GET", "/api/v1/monitoring/{deployment}/config"): (("monitor:read",), "env"),
    ("PUT", "/api/v1/monitoring/{deployment}/config"): (("monitor:write",), "env"),
    ("POST", "/api/v1/monitoring/run"): (("monitor:write",), "global"),
    ("GET", "/api/v1/monitoring/alert-rules"): ((), "auth"),
    ("POST", "/api/v1/monitoring/alert-rules"): (("monitor:write",), "env"),
    ("DELETE", "/api/v1/monitoring/alert-rules/{rule_id}"): (("monitor:write",), "missing"),
    ("GET", "/api/v1/monitoring/alerts"): ((), "auth"),
    ("POST", "/api/v1/monitoring/alerts/{alert_id}/resolve"): (("monitor:write",), "missing"),
}


def routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every management route, including those of included routers.

    The dashboard (`/ui`, cookie sessions) and the gateway's inference paths (served by its
    middleware) are covered by their own tests.
    """
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        contexts = route.effective_route_contexts() if hasattr(  # type: ignore[attr-defined]
            route, "effective_route_contexts") else [route]
        for r in contexts:
            if r.path == "/ui" or r.path.startswith("/ui/"):
                continue
            found.update((m, r.path) for m in getattr(r, "methods", None) or () if m != "HEAD")
    return found


def allowed(role: str, key_env: str, rule: tuple[tuple[str, ...], str],
            resource_env: str | None) -> bool:
    """The expected decision, from the role table alone."""
    ops, where = rule
    if where in ("public", "auth"):
        return True
    if not any(op in ROLE_OPERATIONS[Role(role)] for op in ops):
        return False
    return where != "env" or key_env == resource_env


class World:
    """The resources every route is called on."""

    def __init__(self, admin: Client, app: FastAPI) -> None:
        self.ids: dict[str, Any] = {}
        self.counter = itertools.count()
        state = state_of(app)
        with transaction(state.factory) as session:
            registry.set_status(session=session, name="m", version=1,
                                status=VersionStatus.production)
        for env in ENVIRONMENTS:
            admin.create_deployment(f"d-{env}", "m", 1, environment=env)
        for env in ("staging", "production"):
            self.ids[env] = admin.request_approval("m", 2, env)["id"]
        admin.set_alias("m", "champion", 1)
        self.ids["key"] = admin.create_key("spare", "viewer")["id"]
        self.ids["webhook"] = admin.create_webhook("http://127.0.0.1:9/hook")["id"]

    def cases(self, method: str, path: str, where: str
              ) -> list[tuple[str, dict[str, Any], str | None]]:
        """(concrete path, request kwargs, resource environment) for one route."""
        envs: list[str | None] = [None]
        if where == "env":
            envs = list(ENVIRONMENTS)
            if path.startswith("/api/v1/approvals"):
                envs = ["staging", "production"]
        out = []
        for env in envs:
            concrete = path
            for param, value in {
                "{name}": f"d-{env}" if path.startswith("/api/v1/deployments") else "m",
                "{deployment}": f"d-{env}", "{ref}": "1", "{alias}": "champion",
                "{request_id}": str(self.ids.get(env or "", 1)) if "approvals" in path
                else "no-such-request", "{key_id}": self.ids["key"],
                "{webhook_id}": str(self.ids["webhook"]), "{flag_id}": "999",
                "{rule_id}": "999", "{alert_id}": "999",
            }.items():
                concrete = concrete.replace(param, value)
            out.append((concrete, self.body(method, path, env), env))
        return out

    def body(self, method: str, path: str, env: str | None) -> dict[str, Any]:
        """A valid request body, so only authorization can refuse it."""
        n = next(self.counter)
        bodies: dict[tuple[str, str], Any] = {
            ("POST", "/api/v1/models"): {"name": f"new-{n}", "owner": "o"},
            ("PATCH", "/api/v1/models/{name}/versions/{ref}"): {"status": "retired"},
            ("PUT", "/api/v1/models/{name}/aliases/{alias}"): {"version": 1},
            ("POST", "/api/v1/deployments"): {"name": f"x-{n}", "model": "m", "version": 1,
                                              "environment": env},
            ("PATCH", "/api/v1/deployments/{name}"): {"canary_share": 0.0},
            ("POST", "/api/v1/deployments/{name}/rollback"): {},
            ("POST", "/api/v1/feedback"): {"request_id": "r", "label": "1"},
            ("POST", "/api/v1/keys"): {"name": f"k{n}", "role": "viewer"},
            ("POST", "/api/v1/approvals"): {"model": "m", "version": 2, "target": env},
            ("POST", "/api/v1/approvals/{request_id}/approve"): {},
            ("POST", "/api/v1/approvals/{request_id}/reject"): {"reason": "no"},
            ("POST", "/api/v1/reviews/{flag_id}/close"): {"note": "ok"},
            ("POST", "/api/v1/webhooks"): {"url": "http://127.0.0.1:9/x"},
            ("PUT", "/api/v1/monitoring/{deployment}/config"): {},
            ("POST", "/api/v1/monitoring/alert-rules"): {
                "name": f"r{n}", "deployment": f"d-{env}", "metric": "error_rate",
                "threshold": 0.5},
            ("POST", "/api/v1/monitoring/alerts/{alert_id}/resolve"): {},
        }
        if path.endswith("/impact-assessment"):
            return {"files": {"file": ("dpia.pdf", b"%PDF")}}
        if path.endswith("/versions") and method == "POST":
            return {"files": {"artifact": ("rules.yaml", b"x"),
                              "reference_data": ("r.csv", b"a\n1\n")}}
        body = bodies.get((method, path))
        return {"json": body} if body is not None else {}


def test_every_role_route_and_environment(admin: Client, app: FastAPI, http: TestClient,
                                          rules_yaml: bytes, cancer_reference: bytes) -> None:
    register_rules(admin, "m", rules_yaml, cancer_reference)
    register_rules(admin, "m", rules_yaml, cancer_reference)
    unknown = routes(app) - set(RULES)
    assert not unknown, f"add these routes to RULES with their expected permission: {unknown}"
    world = World(admin, app)
    keys = {(role, env): make_key(admin, f"{role}-{env}", role, environments=[env])
            for role in ROLES for env in ENVIRONMENTS}
    table = sorted(routes(app), key=lambda r: (r[0] == "DELETE", r[0] != "GET", r[1]))
    calls = [(method, path, RULES[(method, path)], concrete, kwargs, res_env)
             for method, path in table
             for concrete, kwargs, res_env in world.cases(method, path, RULES[(method, path)][1])]

    def ok_entries() -> int:
        return len(admin.audit_entries(outcome="ok", limit=1000))

    before, wrong = ok_entries(), []
    for method, _, rule, concrete, kwargs, res_env in calls:
        if rule[1] != "public":
            anonymous = http.request(method, concrete, **kwargs)
            if anonymous.status_code != 401:
                wrong.append(f"anonymous {method} {concrete}: {anonymous.status_code}")
        for (role, env), key in keys.items():
            if allowed(role, env, rule, res_env):
                continue
            r = http.request(method, concrete, headers={"Authorization": f"Bearer {key}"},
                             **kwargs)
            if r.status_code not in (403, 404):
                wrong.append(f"{role}@{env} {method} {concrete}: {r.status_code} {r.text[:80]}")
    assert wrong == [], "\n".join(wrong)
    assert ok_entries() == before, "a refused call changed something"

    for method, path, rule, concrete, kwargs, res_env in calls:
        for (role, env), key in keys.items():
            if not allowed(role, env, rule, res_env) or rule[1] == "public":
                continue
            if (method, path) == ("POST", "/api/v1/keys"):  # never more than the creator holds
                kwargs = {"json": {"name": "k", "role": "viewer", "environments": [env]}}
            r = http.request(method, concrete, headers={"Authorization": f"Bearer {key}"},
                             **kwargs)
            refused = r.status_code in (401, 403) or (
                r.status_code == 404 and method == "GET" and rule[1] in ("model", "env"))
            if refused:
                wrong.append(f"{role}@{env} {method} {concrete}: {r.status_code} {r.text[:80]}")
    assert wrong == [], "\n".join(wrong)

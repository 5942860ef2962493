"""Dashboard through the ASGI app: sign-in, redirects, scope filtering, CSRF, 404s, pages."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from steward.ui.charts import bucket_latency, histogram, merge_bins
from tests.conftest import Env
from tests.ui.conftest import DEPLOYMENT, MODEL, Seeded, csrf_of, login

PAGES = ["/ui/models", f"/ui/models/{MODEL}", f"/ui/models/{MODEL}/versions/1",
         "/ui/deployments", f"/ui/deployments/{DEPLOYMENT}", "/ui/approvals", "/ui/audit",
         "/ui/monitoring", f"/ui/monitoring/{DEPLOYMENT}",
         "/ui/account"]


def test_pages_redirect_to_sign_in_without_a_session(http: TestClient) -> None:
    for path in [*PAGES, "/ui/"]:
        r = http.get(path, follow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/ui/login?next=")


def test_sign_in_sets_a_hardened_cookie_that_never_holds_the_key(http: TestClient,
                                                                 env: Env) -> None:
    r = login(http, env.admin_key, next="/ui/deployments")
    assert r.status_code == 303 and r.headers["location"] == "/ui/deployments"
    cookie = r.headers["set-cookie"]
    assert "steward_session=" in cookie and "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "samesite=strict" in cookie.lower()
    assert "Secure" not in cookie  # plain http here; https adds Secure
    secret = env.admin_key.split("_")[-1]
    assert secret not in cookie and env.admin_key not in cookie
    page = http.get("/ui/models")
    assert page.status_code == 200 and env.admin_key not in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")


def test_bad_key_is_refused_without_echoing_it(http: TestClient) -> None:
    r = login(http, "stw_nope_notakey")
    assert r.status_code == 401
    assert "stw_nope_notakey" not in r.text and "steward_session" not in r.headers.get(
        "set-cookie", "")


def test_open_redirects_are_ignored(http: TestClient, env: Env) -> None:
    for target in ("https://evil.example", "//evil.example", "/api/v1/keys"):
        assert login(http, env.admin_key, next=target).headers["location"] == "/ui"


def test_login_and_forms_refuse_missing_csrf_and_foreign_origin(
        http: TestClient, env: Env, seeded: Seeded) -> None:
    http.get("/ui/login")
    r = http.post("/ui/login", data={"token": env.admin_key, "csrf_token": "forged"},
                  follow_redirects=False)
    assert r.status_code == 403 and "steward_session" not in r.headers.get("set-cookie", "")
    login(http, seeded.keys["approver"])
    page = http.get("/ui/approvals").text
    url = f"/ui/approvals/{seeded.approval_id}/approve"
    assert http.post(url, data={"csrf_token": "wrong"}).status_code == 403
    foreign = http.post(url, data={"csrf_token": csrf_of(page)},
                        headers={"origin": "https://evil.example"})
    assert foreign.status_code == 403
    assert "pending" in http.get("/ui/approvals").text  # nothing was decided


def test_every_page_renders_for_an_admin(http: TestClient, seeded: Seeded) -> None:
    login(http, seeded.keys["admin"])
    for path in PAGES:
        r = http.get(path)
        assert r.status_code == 200, (path, r.text[:300])
    version = http.get(f"/ui/models/{MODEL}/versions/1").text
    assert "mean radius" in version and "sklearn://breast_cancer" in version
    assert version.count('data-figure="hist-') == 30
    deployment = http.get(f"/ui/deployments/{DEPLOYMENT}").text
    assert f"{MODEL}:2 at 30%" in deployment
    requests = re.search(r'data-field="requests">(\d+)<', deployment)
    assert requests is not None and int(requests.group(1)) == seeded.requests
    traffic = http.get(f"/ui/deployments/{DEPLOYMENT}/traffic.json?window=1h").json()
    assert traffic["requests"] == seeded.requests
    assert sum(traffic["rate"]["data"][0]["y"]) > 0
    assert {r["route"] for r in traffic["routes"]} >= {"champion", "shadow"}
    monitor = http.get(f"/ui/monitoring/{DEPLOYMENT}").text
    assert monitor.count('data-figure="drift-') == 33  # 30 features + 3 outputs
    assert "fallback_spike" in monitor and 'id="drift-table"' in monitor


def test_scopes_filter_what_is_shown(http: TestClient, seeded: Seeded) -> None:
    login(http, seeded.keys["viewer_other"])
    models = http.get("/ui/models").text
    assert "/ui/models/other" in models and f"/ui/models/{MODEL}" not in models
    assert http.get(f"/ui/models/{MODEL}").status_code == 404  # exists, but hidden
    assert "Audit log" not in models
    assert http.get("/ui/audit").status_code == 403
    login(http, seeded.keys["viewer_dev"])
    assert DEPLOYMENT not in http.get("/ui/deployments").text
    assert http.get(f"/ui/deployments/{DEPLOYMENT}").status_code == 404
    login(http, seeded.keys["service"])
    assert http.get("/ui/", follow_redirects=False).headers["location"] == "/ui/account"
    assert "No models you may read" in http.get("/ui/models").text


def test_unknown_things_are_404_pages(http: TestClient, seeded: Seeded) -> None:
    login(http, seeded.keys["admin"])
    for path in ("/ui/models/nope", f"/ui/models/{MODEL}/versions/9",
                 "/ui/deployments/nope", "/ui/static/secrets.txt"):
        r = http.get(path)
        assert r.status_code == 404 and "Not found" in r.text, path


def test_approve_and_reject_through_forms(http: TestClient, seeded: Seeded) -> None:
    login(http, seeded.keys["admin"])
    page = http.get("/ui/approvals").text
    assert f"/ui/approvals/{seeded.approval_id}/approve" not in page  # four eyes: requester
    login(http, seeded.keys["approver"])
    page = http.get("/ui/approvals").text
    token = csrf_of(page)
    url = f"/ui/approvals/{seeded.approval_id}"
    assert http.post(f"{url}/reject", data={"csrf_token": token, "reason": " "}
                     ).status_code == 422
    r = http.post(f"{url}/approve", data={"csrf_token": token, "reason": "metrics ok"},
                  follow_redirects=False)
    assert r.status_code == 303
    done = http.get(r.headers["location"]).text
    assert "status-approved" in done and "metrics ok" in done
    audit = http.get("/ui/audit?action=approval.approved").text
    assert "alice" in audit and "Chain verified" in audit


def test_logout_clears_the_session(http: TestClient, env: Env) -> None:
    login(http, env.admin_key)
    token = csrf_of(http.get("/ui/models").text)
    assert http.post("/ui/logout", data={"csrf_token": "x"}).status_code == 403
    r = http.post("/ui/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and 'steward_session=""' in r.headers["set-cookie"]
    http.cookies.clear()
    assert http.get("/ui/models", follow_redirects=False).status_code == 303


def test_plotly_is_served_locally_with_long_caching(http: TestClient) -> None:
    r = http.get("/ui/static/plotly.min.js")
    assert r.status_code == 200 and "plotly" in r.text[:2000].lower()
    assert "max-age=31536000" in r.headers["cache-control"]
    again = http.get("/ui/static/plotly.min.js", headers={"if-none-match": r.headers["etag"]})
    assert again.status_code == 304


def test_histogram_density_from_profile_bins() -> None:
    profile = {"kind": "numeric", "quantiles": [0.0, 1.0, 3.0],
               "fine_proportions": [0.5, 0.5]}
    fig = histogram(profile, "x")
    assert fig is not None
    bar = fig["data"][0]
    assert bar["x"] == [0.5, 2.0] and bar["width"] == [1.0, 2.0]
    assert bar["y"] == [0.5, 0.25]  # mass / width
    assert histogram({"kind": "numeric", "quantiles": [], "fine_proportions": []}, "x") is None


def test_merged_bins_keep_edges_and_total_mass() -> None:
    import numpy as np

    edges = np.linspace(0.0, 100.0, 101)
    mass = np.full(100, 0.01)
    merged_edges, merged_mass = merge_bins(edges, mass, target=25)
    assert merged_edges.tolist() == edges[::4].tolist()
    assert merged_mass.size == 25 and np.allclose(merged_mass, 0.04)
    odd_edges, odd_mass = merge_bins(np.arange(8.0), np.full(7, 1 / 7), target=3)
    assert odd_edges.tolist() == [0.0, 3.0, 6.0, 7.0] and np.isclose(odd_mass.sum(), 1.0)


def test_latency_buckets_give_rates_and_percentiles() -> None:
    import numpy as np

    ts = np.array([0.0, 10.0, 20.0, 130.0])
    lat = np.array([1.0, 2.0, 3.0, 10.0])
    out = bucket_latency(ts, lat, 0.0, 180.0, buckets=3)
    assert out["rate_per_min"] == [3.0, 0.0, 1.0]
    assert out["p50"] == [2.0, None, 10.0]
    assert out["p99"][0] == np.percentile([1.0, 2.0, 3.0], 99)

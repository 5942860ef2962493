"""Drift through the real gateway: shifted features flagged, others not; folded == raw."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
from fastapi.testclient import TestClient

from steward.client import Client
from steward.monitoring import Monitor
from steward.state import AppState
from steward.stats import bin_counts, feature_drift
from tests.monitoring.conftest import flush, upper_half

SHIFTED = ["mean texture", "worst smoothness"]


def _drift_setup(admin: Client, cancer_dep: str, cancer_features: pd.DataFrame,
                 send: Callable[..., list[str]], state: AppState) -> pd.DataFrame:
    admin.set_monitoring_config(cancer_dep, {"method": "psi", "threshold": 0.2})
    current = upper_half(cancer_features, SHIFTED)
    send(cancer_dep, current)
    flush(state)
    return current


def test_shifted_features_flagged_and_others_not(
        admin: Client, cancer_dep: str, cancer_features: pd.DataFrame,
        send: Callable[..., list[str]], state: AppState, monitor: Monitor) -> None:
    current = _drift_setup(admin, cancer_dep, cancer_features, send, state)
    raw = admin.drift(cancer_dep, window="1h")  # nothing folded yet: all from raw rows
    assert raw["window"]["unfolded_requests"] == 12 and raw["window"]["rows"] == 569
    flagged = {f["feature"] for f in raw["features"] if f["drifted"]}
    assert flagged == set(SHIFTED)
    assert raw["dataset_drift"] is False and raw["drifted_share"] == 2 / 30

    # Values match the documented statistics on the same rows.
    profile = admin.get_version("cancer", 1)["profile"]["features"]["mean texture"]
    expected = feature_drift(profile, bin_counts(current["mean texture"].to_numpy(), profile),
                             method="psi")
    got = next(f for f in raw["features"] if f["feature"] == "mean texture")
    assert abs(got["value"] - expected.value) < 1e-12
    assert got["statistics"]["ks_pvalue"] is not None and got["statistics"]["psi"] > 0.2

    # Fold part of the log, then all of it: the window is the same every time.
    monitor.run_once(grace_s=0.0, alerts_due=False)
    folded = admin.drift(cancer_dep, window="1h")
    assert folded["window"]["unfolded_requests"] == 0
    for a, b in zip(raw["features"] + raw["outputs"], folded["features"] + folded["outputs"],
                    strict=True):
        assert a["statistics"] == b["statistics"], a["feature"]


def test_last_n_window_and_per_feature_override(
        admin: Client, cancer_dep: str, cancer_features: pd.DataFrame,
        send: Callable[..., list[str]], state: AppState) -> None:
    current = _drift_setup(admin, cancer_dep, cancer_features, send, state)
    last = admin.drift(cancer_dep, last=100)
    assert last["window"]["rows"] == 100
    profile = admin.get_version("cancer", 1)["profile"]["features"]["mean texture"]
    tail = current["mean texture"].to_numpy()[-100:]
    want = feature_drift(profile, bin_counts(tail, profile), method="psi").value
    got = next(f for f in last["features"] if f["feature"] == "mean texture")["value"]
    assert abs(got - want) < 1e-12
    # Per-feature method/threshold: KS on one feature; an impossible PSI threshold elsewhere.
    admin.set_monitoring_config(cancer_dep, {
        "method": "psi", "threshold": 0.2, "drift_share": 0.03,
        "features": {"mean radius": {"method": "ks"},
                     "mean texture": {"threshold": 1e9}}})
    out = admin.drift(cancer_dep, window="1h")
    by = {f["feature"]: f for f in out["features"]}
    assert by["mean radius"]["method"] == "ks" and by["mean radius"]["threshold"] == 0.05
    assert by["mean texture"]["drifted"] is False
    assert by["worst smoothness"]["drifted"] is True
    assert out["drifted_share"] == 1 / 30 and out["dataset_drift"] is True  # 1/30 >= 0.03


def test_html_report_is_self_contained(
        admin: Client, cancer_dep: str, cancer_features: pd.DataFrame,
        send: Callable[..., list[str]], state: AppState, http: TestClient, env: Any) -> None:
    _drift_setup(admin, cancer_dep, cancer_features, send, state)
    r = http.get(f"/api/v1/monitoring/{cancer_dep}/drift/report.html",
                 headers={"Authorization": f"Bearer {env.admin_key}"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert page.count("<svg") == 30 + 3  # every feature and output
    assert "mean texture" in page and "drifted" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<script" not in page

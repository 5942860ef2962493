"""Fairness on live data: a protected `group` column in the contract, hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
from fastapi.testclient import TestClient

from steward.client import Client
from steward.state import AppState
from tests.monitoring.conftest import flush, register


def test_selection_rate_parity_and_equalized_odds(
        admin: Client, state: AppState, http: TestClient, env: object, cancer: pd.DataFrame,
        rules_yaml: bytes) -> None:
    rng = np.random.default_rng(3)
    ref = cancer.copy()
    ref["target"] = ref["target"].astype(str)
    ref["group"] = np.where(rng.random(len(ref)) < 0.5, "a", "b")
    register(admin, "rules", rules_yaml, "model.yaml", ref, protected=["group"])
    contract = admin.get_version("rules", 1)["contract"]
    assert [f["name"] for f in contract["features"] if f["protected"]] == ["group"]
    admin.create_deployment("fair", "rules", 1)
    state.revisions.poll_once()
    # Live traffic where group "a" holds the larger tumours (fewer "1" predictions).
    live = ref.drop(columns=["target"]).copy()
    live["group"] = np.where(live["worst radius"] > 15, "a", "b")
    live.loc[live.index % 7 == 0, "group"] = "a"
    headers = {"Authorization": f"Bearer {env.admin_key}"}  # type: ignore[attr-defined]
    ids = []
    for start in range(0, len(live), 100):
        part = live.iloc[start:start + 100]
        r = http.post("/v1/models/fair:predict", headers=headers,
                      json={"instances": part.to_dict(orient="records")})
        assert r.status_code == 200, r.text
        ids.append(r.headers["x-request-id"])
    flush(state)
    pred = (live["worst radius"] <= 16.8).map({True: "1", False: "0"}).to_numpy()
    truth = ref["target"].to_numpy()
    admin.feedback_bulk([{"request_id": rid, "row": row, "label": truth[100 * k + row]}
                         for k, rid in enumerate(ids)
                         for row in range(min(100, len(live) - 100 * k))])
    out = admin.fairness("fair", window="1h")
    assert out["positive_label"] == "1" and out["window"]["rows"] == len(live)
    (f,) = out["features"]
    g = live["group"].to_numpy()
    sel = pred == "1"
    rates = {k: sel[g == k].mean() for k in ("a", "b")}
    assert {k: v["selection_rate"] for k, v in f["groups"].items()} == rates
    assert abs(f["demographic_parity_difference"] - abs(rates["a"] - rates["b"])) < 1e-12
    pos, neg = truth == "1", truth == "0"
    tpr = {k: sel[(g == k) & pos].mean() for k in ("a", "b")}
    fpr = {k: sel[(g == k) & neg].mean() for k in ("a", "b")}
    eod = max(abs(tpr["a"] - tpr["b"]), abs(fpr["a"] - fpr["b"]))
    assert abs(f["equalized_odds_difference"] - eod) < 1e-12
    assert f["demographic_parity_difference"] > 0.1
    assert sum(p["n"] for p in f["series"]) == len(live)

"""Data quality and silent failures: injected faults fire, healthy traffic does not."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select

from steward.client import Client
from steward.deployments.tables import Deployment
from steward.predictions.records import encode_records
from steward.registry.contract import contract_to_yaml, infer_contract
from steward.state import AppState
from tests.monitoring.conftest import CLASSES, flush, record, register


def version_id(state: AppState, dep: str = "cancer-live") -> int:
    """Id of the champion version of a deployment."""
    with state.factory() as session:
        return int(session.scalars(select(Deployment.champion_version_id)
                                   .where(Deployment.name == dep)).one())


@pytest.fixture
def ranged_dep(admin: Client, state: AppState, cancer: pd.DataFrame, cancer_onnx: bytes,
               cancer_reference: bytes) -> str:
    """The cancer model with hard min/max ranges in its contract (observed reference range)."""
    contract = infer_contract(cancer.drop(columns=["target"]), ranges=True)
    register(admin, "ranged", cancer_onnx, "model.onnx", cancer_reference, classes=CLASSES,
             contract_yaml=contract_to_yaml(contract))
    admin.create_deployment("ranged-live", "ranged", 1)
    state.revisions.poll_once()
    return "ranged-live"


def _checks(report: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(c["check"], c["target"]): c["status"] for c in report["checks"]}


def test_healthy_traffic_passes_every_check(
        admin: Client, cancer_dep: str, cancer_features: pd.DataFrame,
        send: Callable[..., list[str]], state: AppState) -> None:
    send(cancer_dep, cancer_features)
    flush(state)
    q = admin.data_quality(cancer_dep, window="1h")
    assert q["window"]["rows"] == 569 and q["error_rate"] == 0 and q["fallback_rate"] == 0
    assert all(c["status"] == "ok" for c in q["checks"]), q["checks"]
    assert {c["check"] for c in q["checks"]} >= {"completeness", "constant_output",
                                                 "variance_collapse", "fallback_spike"}
    assert all(f["completeness"] == 1.0 and f["range_violations"] == 0 for f in q["features"])


def test_injected_faults_fire(admin: Client, ranged_dep: str, cancer_features: pd.DataFrame,
                              state: AppState) -> None:
    cancer_dep = ranged_dep
    vid = version_id(state, ranged_dep)
    cols = {c: [float(v) for v in cancer_features[c].iloc[:100]] for c in cancer_features}
    cols["mean radius"] = [None] * 50 + cols["mean radius"][50:]      # 50 % missing
    cols["mean area"] = [1e6] * 10 + cols["mean area"][10:]           # 10 out of range
    cols["mean texture"] = ["abc"] * 5 + cols["mean texture"][5:]     # 5 not numbers
    constant = {"label": ["benign"] * 100, "probabilities": [[0.2, 0.8]] * 100}
    now = time.time()
    # The previous hour (logged first): same traffic size, no fallbacks.
    recs = [record(cancer_dep, vid, {k: v[i:i + 10] for k, v in cols.items()},
                    {k: v[i:i + 10] for k, v in constant.items()}, ts=now - 5400)
             for i in range(0, 100, 10)]
    recs += [record(cancer_dep, vid, {k: v[i:i + 10] for k, v in cols.items()},
                   {k: v[i:i + 10] for k, v in constant.items()}, ts=now - 60,
                   fallback=i < 50, ood=["mean area"] if i == 0 else [])
            for i in range(0, 100, 10)]
    recs.append(record(cancer_dep, vid, {k: v[:1] for k, v in cols.items()}, None,
                       ts=now - 30, error="ModelError"))
    state.spool.append(encode_records(recs))
    flush(state)
    q = admin.data_quality(cancer_dep, window="1h")
    by = {f["feature"]: f for f in q["features"]}
    assert q["window"]["requests"] == 11 and q["window"]["rows"] == 101
    assert by["mean radius"]["completeness"] == 50 / 101  # the error row lacks it too
    assert by["mean area"]["range_violations"] == 11 and by["mean area"]["ood_requests"] == 1
    assert by["mean texture"]["type_violations"] == 6  # the error row counts as input
    assert q["error_rate"] == 1 / 11 and q["fallback_rate"] == 5 / 11
    assert q["previous_fallback_rate"] == 0.0 and q["ood_rate"] == 1 / 11
    status = _checks(q)
    assert status[("completeness", "mean radius")] == "fail"
    assert status[("completeness", "worst area")] == "ok"
    assert status[("constant_output", "label")] == "fail"
    assert status[("variance_collapse", "probability:benign")] == "fail"
    assert status[("fallback_spike", "fallback_rate")] == "fail"
    out = {o["output"]: o for o in q["outputs"]}
    assert out["label"]["top"] == "benign" and out["label"]["top_share"] == 1.0
    benign = out["probability:benign"]
    assert abs(benign["mean"] - 0.8) < 1e-12 and benign["std"] < 1e-6
    # The same from the last 101 rows (raw) and after folding (buckets).
    last = admin.data_quality(cancer_dep, last=101)
    assert last["fallback_rate"] == 5 / 11 and last["previous_fallback_rate"] == 0.0
    admin.run_monitoring()
    assert admin.data_quality(cancer_dep, window="1h")["features"] == q["features"]

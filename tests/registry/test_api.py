"""Registry end to end through the real HTTP app and the SDK, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from steward.client import Client
from steward.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from tests.conftest import Env


def _register(admin: Client, name: str, artifact: bytes, filename: str, reference: bytes,
              **meta: object) -> dict[str, object]:
    try:
        admin.get_model(name)
    except NotFound:
        admin.create_model(name, owner="ml-team@example.com", team="risk",
                           use_case="triage", kpi="recall", risk_tier="limited")
    return admin.register_version(name, artifact, reference, artifact_filename=filename, **meta)


def test_register_onnx_skops_and_rules(admin: Client, cancer_onnx: bytes, cancer_skops: bytes,
                                       rules_yaml: bytes, cancer_reference: bytes) -> None:
    lineage = {"data_uri": "sklearn://breast_cancer", "code_ref": "abc123",
               "hyperparameters": {"C": 1.0}, "metrics": {"auc": 0.99},
               "slice_metrics": {"large_tumours": {"auc": 0.97}}}
    v1 = _register(admin, "cancer", cancer_onnx, "model.onnx", cancer_reference,
                   target="target", lineage=lineage, classes=["malignant", "benign"])
    v2 = _register(admin, "cancer", cancer_skops, "model.skops", cancer_reference,
                   target="target")
    v3 = _register(admin, "cancer", rules_yaml, "rules.yaml", cancer_reference, target="target")
    assert [v1["version"], v2["version"], v3["version"]] == [1, 2, 3]
    assert [v1["artifact_format"], v2["artifact_format"], v3["artifact_format"]] == \
        ["onnx", "skops", "rules"]
    assert v1["lineage"]["data_fingerprint"].startswith("sha256:")
    assert v1["lineage"]["rows"] == 569 and v1["lineage"]["code_ref"] == "abc123"
    assert len(v1["contract"]["features"]) == 30
    assert "target" not in [f["name"] for f in v1["contract"]["features"]]
    assert v1["profile"]["features"]["mean radius"]["kind"] == "numeric"
    assert "label" in v1["profile"]["outputs"]
    assert v1["cold_start_ms"] > 0
    assert v1["quality"]["passed"] is True

    card = admin.card("cancer", 1)
    assert card["model_details"]["name"] == "cancer"
    assert "auc" in str(card["quantitative_analysis"])
    assert "# " in admin.card("cancer", 1, format="markdown")
    assert "features:" in admin.contract_yaml("cancer", 1)


def test_alias_repoint_is_rollback(admin: Client, cancer_onnx: bytes, cancer_skops: bytes,
                                   cancer_reference: bytes) -> None:
    _register(admin, "m", cancer_onnx, "model.onnx", cancer_reference, target="target")
    _register(admin, "m", cancer_skops, "model.skops", cancer_reference, target="target")
    admin.set_alias("m", "champion", 2)
    assert admin.get_version("m", "champion")["version"] == 2
    admin.set_alias("m", "champion", 1)
    assert admin.get_version("m", "champion")["version"] == 1
    assert admin.get_model("m")["aliases"] == {"champion": 1}
    with pytest.raises(Conflict):
        admin.delete_version("m", 1)  # the alias points at it
    admin.delete_version("m", 2)
    with pytest.raises(NotFound):
        admin.get_version("m", 2)


def test_bad_input_is_refused_and_leaves_nothing(admin: Client, env: Env, cancer_onnx: bytes,
                                                cancer_reference: bytes) -> None:
    admin.create_model("bad", owner="o")
    with pytest.raises(Conflict):
        admin.create_model("bad", owner="o")
    with pytest.raises(InvalidInput) as corrupt:
        admin.register_version("bad", cancer_onnx[:200], cancer_reference,
                               artifact_filename="model.onnx", target="target")
    assert "onnx" in corrupt.value.message.lower()
    with pytest.raises(InvalidInput, match="pickle"):
        admin.register_version("bad", b"\x80\x04K\x01.", cancer_reference,
                               artifact_filename="model.pkl", target="target")
    with pytest.raises(InvalidInput, match="target"):
        admin.register_version("bad", cancer_onnx, cancer_reference,
                               artifact_filename="model.onnx", target="nope")
    with pytest.raises(InvalidInput):
        admin.create_model("../etc", owner="o")
    with pytest.raises(NotFound):
        admin.get_version("bad", 7)
    assert admin.list_versions("bad") == []
    blobs = list((env.settings.home / "artifacts").rglob("*"))
    assert [b for b in blobs if b.is_file()] == []


def test_contract_contradicting_data_is_refused(admin: Client, cancer_onnx: bytes,
                                                cancer_reference: bytes) -> None:
    admin.create_model("c", owner="o")
    contract = "features:\n  - name: mean radius\n    dtype: float\n    max: 1.0\n"
    with pytest.raises(InvalidInput, match="mean radius"):
        admin.register_version("c", cancer_onnx, cancer_reference, artifact_filename="m.onnx",
                               target="target", contract_yaml=contract)


def test_management_api_requires_a_key(http: TestClient) -> None:
    assert http.get("/api/v1/models").status_code == 401
    bad = http.get("/api/v1/models", headers={"Authorization": "Bearer stw_000000000000_x"})
    assert bad.status_code == 401
    with pytest.raises(Unauthenticated):
        Client("http://testserver", "nonsense", http=http).list_models()


def test_tampered_artifact_is_refused_on_load(admin: Client, env: Env, cancer_onnx: bytes,
                                              cancer_reference: bytes) -> None:
    from steward.errors import IntegrityError
    from steward.state import build_state

    v = _register(admin, "t", cancer_onnx, "model.onnx", cancer_reference, target="target")
    digest = v["artifact_digest"]
    path = next((env.settings.home / "artifacts").rglob(digest))
    blob = bytearray(path.read_bytes())
    blob[-10] ^= 0xFF
    path.write_bytes(bytes(blob))
    state = build_state(env.settings)
    try:
        with pytest.raises(IntegrityError, match="tampered"):
            state.store.get(digest)
        path.write_bytes(bytes(blob[: len(blob) // 2]))
        with pytest.raises(IntegrityError):
            state.store.get(digest)
    finally:
        state.close()
